package io.gpuwarden.agent.check.xid;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.XidEvent;
import io.gpuwarden.proto.v1.XidOrigin;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class XidDeduplicatorTest {
  private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

  private static Event xid(int xid, XidOrigin origin, String uuid, String pci) {
    return Event.newBuilder().setComponent(Component.newBuilder().setGpuUuid(uuid).setPciBusId(pci))
        .setXid(XidEvent.newBuilder().setXid(xid).setOrigin(origin).setPciBusId(pci)).build();
  }

  private static final Event NVML_79 = xid(79, XidOrigin.XID_ORIGIN_NVML, "GPU-a", "00000000:18:00.0");
  private static final Event KERNEL_79 = xid(79, XidOrigin.XID_ORIGIN_KERNEL_LOG, "GPU-a", "00000000:18:00.0");

  @Test
  void nvmlThenKernelCountsOnceEvenAcrossCycles() {
    XidDeduplicator d = new XidDeduplicator(Duration.ofSeconds(10));
    assertThat(d.filter(List.of(NVML_79), T0)).hasSize(1);
    assertThat(d.filter(List.of(KERNEL_79), T0.plusSeconds(1))).isEmpty();
    assertThat(d.duplicates()).isEqualTo(1);
  }

  @Test
  void kernelThenNvmlInOneCycleCountsOnce() {
    XidDeduplicator d = new XidDeduplicator(Duration.ofSeconds(10));
    assertThat(d.filter(List.of(KERNEL_79, NVML_79), T0)).containsExactly(KERNEL_79);
  }

  @Test
  void repeatsFromOneOriginAreAllKeptAndPairOneToOne() {
    XidDeduplicator d = new XidDeduplicator(Duration.ofSeconds(10));
    Event n13 = xid(13, XidOrigin.XID_ORIGIN_NVML, "GPU-a", "");
    Event k13 = xid(13, XidOrigin.XID_ORIGIN_KERNEL_LOG, "GPU-a", "");
    assertThat(d.filter(List.of(n13, n13, n13), T0)).hasSize(3);
    assertThat(d.filter(List.of(k13, k13, k13, k13), T0.plusSeconds(1))).hasSize(1); // the fourth has no partner
  }

  @Test
  void otherGpusOtherXidsAndLateArrivalsAreNotDuplicates() {
    XidDeduplicator d = new XidDeduplicator(Duration.ofSeconds(10));
    d.filter(List.of(NVML_79), T0);
    assertThat(d.filter(List.of(xid(79, XidOrigin.XID_ORIGIN_KERNEL_LOG, "GPU-b", "00000000:2A:00.0")), T0)).hasSize(1);
    assertThat(d.filter(List.of(xid(48, XidOrigin.XID_ORIGIN_KERNEL_LOG, "GPU-a", "00000000:18:00.0")), T0)).hasSize(1);
    assertThat(d.filter(List.of(KERNEL_79), T0.plusSeconds(11))).hasSize(1);
  }

  @Test
  void nonXidEventsPassUntouched() {
    XidDeduplicator d = new XidDeduplicator(Duration.ofSeconds(10));
    Event other = Event.newBuilder().setMessage("AER").build();
    assertThat(d.filter(List.of(other, other), T0)).hasSize(2);
  }
}
