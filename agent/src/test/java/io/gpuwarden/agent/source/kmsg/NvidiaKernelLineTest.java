package io.gpuwarden.agent.source.kmsg;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class NvidiaKernelLineTest {
  @Test
  void currentDriverXidWithUnknownProcess() {
    var x = NvidiaKernelLine.xid("NVRM: Xid (PCI:0000:3b:00): 119, pid='<unknown>', name=<unknown>, "
        + "Timeout waiting for RPC from GSP! Expected function 76 (GSP_RM_CONTROL).").orElseThrow();
    assertThat(x.xid()).isEqualTo(119);
    assertThat(x.pciBusId()).isEqualTo("00000000:3B:00.0");
    assertThat(x.pid()).isEmpty();
    assertThat(x.processName()).isEmpty();
    assertThat(x.text()).startsWith("Timeout waiting for RPC from GSP!");
  }

  @Test
  void xidWithPidNameAndMigInstances() {
    var x = NvidiaKernelLine.xid("NVRM: Xid (PCI:0000:9a:00 GPU-I:02 GPU-CI:01): 94, pid=4321, name=python3, "
        + "Contained: SM (0x1). RST: No, D-RST: No").orElseThrow();
    assertThat(x.xid()).isEqualTo(94);
    assertThat(x.pciBusId()).isEqualTo("00000000:9A:00.0");
    assertThat(x.gpuInstance()).isEqualTo(OptionalInt.of(2));
    assertThat(x.computeInstance()).isEqualTo(OptionalInt.of(1));
    assertThat(x.pid()).isEqualTo(OptionalInt.of(4321));
    assertThat(x.processName()).isEqualTo("python3");
  }

  @Test
  void olderDriversWithoutPidAndWithoutThePciPrefix() {
    var noPid = NvidiaKernelLine.xid("NVRM: Xid (PCI:0000:08:00): 69, Class Error: ChId 0010, Class 0000c5c0").orElseThrow();
    assertThat(noPid.xid()).isEqualTo(69);
    assertThat(noPid.text()).isEqualTo("Class Error: ChId 0010, Class 0000c5c0");
    var noPrefix = NvidiaKernelLine.xid("NVRM: Xid (0000:01:00): 31, Ch 00000010, engmask 00000101").orElseThrow();
    assertThat(noPrefix.pciBusId()).isEqualTo("00000000:01:00.0");
    assertThat(noPrefix.xid()).isEqualTo(31);
  }

  @Test
  void causedByPreviousXidIsStillAnXid() {
    var x = NvidiaKernelLine.xid("NVRM: Xid (PCI:0000:18:00): 45, pid=77, name=train, Ch 00000008 (caused by previous Xid)")
        .orElseThrow();
    assertThat(x.xid()).isEqualTo(45);
    assertThat(x.text()).contains("caused by previous Xid");
  }

  @Test
  void fallenOffTheBusWithoutAnXid() {
    assertThat(NvidiaKernelLine.fallenOffTheBus("NVRM: GPU 0000:01:00.0: GPU has fallen off the bus."))
        .contains("00000000:01:00.0");
    assertThat(NvidiaKernelLine.fallenOffTheBus("NVRM: Xid (PCI:0000:01:00): 79, GPU has fallen off the bus.")).isEmpty();
  }

  @Test
  void nvswitchSxidFatalAndNonFatal() {
    var s = NvidiaKernelLine.sxid("nvidia-nvswitch3: SXid (PCI:0000:05:00.0): 12028, Non-fatal, "
        + "Link 32 egress non-posted PRIV error (First)").orElseThrow();
    assertThat(s.sxid()).isEqualTo(12028);
    assertThat(s.fatal()).isFalse();
    assertThat(s.device()).isEqualTo("nvidia-nvswitch3");
    assertThat(s.pciBusId()).isEqualTo("00000000:05:00.0");
    assertThat(NvidiaKernelLine.sxid("nvidia-nvswitch0: SXid (PCI:0000:86:00.0): 10003, Fatal, Link 4 ...").orElseThrow().fatal())
        .isTrue();
  }

  @Test
  void lookalikesDoNotMatch() {
    assertThat(NvidiaKernelLine.xid("user wrote NVRM: Xid in a chat")).isEmpty();
    assertThat(NvidiaKernelLine.sxid("nvidia-nvswitch3: something else")).isEmpty();
  }
}
