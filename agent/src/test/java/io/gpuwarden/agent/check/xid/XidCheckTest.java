package io.gpuwarden.agent.check.xid;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuRecoveryAction;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import io.gpuwarden.proto.v1.XidEvent;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XidCheckTest {
  private static final GpuInfo GPU0 = GpuInfo.newBuilder().setIndex(0).setUuid("GPU-aaaa").setPciBusId("00000000:18:00.0").build();
  private static final GpuInfo GPU1 = GpuInfo.newBuilder().setIndex(1).setUuid("GPU-bbbb").setPciBusId("00000000:2A:00.0").build();

  @TempDir
  Path dir;

  private Instant now = Instant.parse("2026-11-22T10:00:00Z");
  private final XidEvents events = new XidEvents(XidPolicy.defaults());

  private HostSnapshot snapshot(String boot, List<GpuSample> samples, Event... evts) {
    now = now.plusSeconds(1);
    return new HostSnapshot(now, boot, List.of(GPU0, GPU1), samples, OptionalInt.of(2), List.of(evts), Optional.empty());
  }

  private static List<GpuSample> ok() {
    return List.of(GpuSample.newBuilder().setGpuUuid("GPU-aaaa").build(), GpuSample.newBuilder().setGpuUuid("GPU-bbbb").setIndex(1).build());
  }

  private Event xid(int xid, GpuInfo gpu) {
    return events.event(xid, HostSnapshot.gpu(gpu), XidEvent.newBuilder().setPciBusId(gpu.getPciBusId()).build(), now);
  }

  private XidCheck check() {
    return new XidCheck(XidPolicy.defaults(), 3, FileStateStore.open(dir));
  }

  @Test
  void xid79MakesTheGpuUnhealthyUntilRebootAndSurvivesAnAgentRestart() {
    XidCheck c = check();
    List<Finding> f = c.evaluate(snapshot("boot-1", ok(), xid(79, GPU1)));
    assertThat(f).singleElement().satisfies(x -> {
      assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE);
      assertThat(x.component().getGpuUuid()).isEqualTo("GPU-bbbb");
      assertThat(x.message()).contains("Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS)").contains("00000000:2A:00.0").contains("clears on reboot");
    });
    assertThat(check().evaluate(snapshot("boot-1", ok()))).as("a restarted agent remembers").hasSize(1);
    assertThat(check().evaluate(snapshot("boot-2", ok()))).as("a reboot clears it").isEmpty();
  }

  @Test
  void floodIsOneFindingWithACount() {
    XidCheck c = check();
    c.evaluate(snapshot("boot-1", ok(), xid(48, GPU0), xid(48, GPU0), xid(48, GPU0)));
    List<Finding> f = c.evaluate(snapshot("boot-1", ok(), xid(48, GPU0)));
    assertThat(f).singleElement().satisfies(x -> assertThat(x.message()).contains("4 times"));
  }

  @Test
  void applicationXidsAreEventsOnlyAndIgnoredXidsNothing() {
    XidCheck c = check();
    assertThat(c.evaluate(snapshot("boot-1", ok(), xid(13, GPU0), xid(31, GPU0), xid(43, GPU1)))).isEmpty();
    XidCheck ignoring = new XidCheck(XidPolicy.defaults().ignoring(Set.of(48)), 3, FileStateStore.open(dir.resolve("b")));
    assertThat(ignoring.evaluate(snapshot("boot-1", ok(), xid(48, GPU0)))).isEmpty();
  }

  @Test
  void overrideChangesStateAndAction() {
    XidPolicy p = XidPolicy.defaults().with(new XidRule(13, "GR_EXCEPTION", HealthState.HEALTH_STATE_DEGRADED,
        SuggestedAction.SUGGESTED_ACTION_RESET_GPU, XidClearing.GPU_RESET));
    XidCheck c = new XidCheck(p, 3, FileStateStore.open(dir));
    assertThat(c.evaluate(snapshot("boot-1", ok(), xid(13, GPU0)))).singleElement()
        .satisfies(x -> assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED));
  }

  @Test
  void resetClassXidClearsWhenTheGpuComesBackOrTheRecoveryActionClears() {
    XidCheck c = check();
    assertThat(c.evaluate(snapshot("boot-1", ok(), xid(119, GPU0)))).hasSize(1);
    List<GpuSample> gpu0Hung = List.of(GpuSample.newBuilder().setGpuUuid("GPU-aaaa").setUnresponsive(true).build(), ok().get(1));
    assertThat(c.evaluate(snapshot("boot-1", gpu0Hung))).hasSize(1);
    assertThat(c.evaluate(snapshot("boot-1", ok()))).as("answers again: it was reset").isEmpty();

    c.evaluate(snapshot("boot-1", recovery(GpuRecoveryAction.GPU_RECOVERY_ACTION_GPU_RESET), xid(95, GPU0)));
    assertThat(c.evaluate(snapshot("boot-1", recovery(GpuRecoveryAction.GPU_RECOVERY_ACTION_GPU_RESET)))).hasSize(1);
    assertThat(c.evaluate(snapshot("boot-1", recovery(GpuRecoveryAction.GPU_RECOVERY_ACTION_NONE)))).isEmpty();
  }

  @Test
  void rebootClassXidOnTheSameGpuInThreeBootsEscalatesToHardwareInspection() {
    assertThat(check().evaluate(snapshot("boot-1", ok(), xid(79, GPU0)))).singleElement()
        .satisfies(x -> assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
    assertThat(check().evaluate(snapshot("boot-2", ok(), xid(79, GPU0)))).singleElement()
        .satisfies(x -> assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
    assertThat(check().evaluate(snapshot("boot-3", ok(), xid(79, GPU0)))).singleElement().satisfies(x -> {
      assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(x.message()).contains("seen in 3 boots");
    });
    assertThat(check().evaluate(snapshot("boot-3", ok(), xid(79, GPU1)))).as("another GPU starts its own count")
        .filteredOn(x -> x.component().getGpuUuid().equals("GPU-bbbb"))
        .singleElement().satisfies(x -> assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
  }

  @Test
  void unknownXidIsDegradedNotIgnored() {
    assertThat(check().evaluate(snapshot("boot-1", ok(), xid(999, GPU0)))).singleElement().satisfies(x -> {
      assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(x.message()).contains("UNKNOWN_XID");
    });
  }

  private static List<GpuSample> recovery(GpuRecoveryAction a) {
    return List.of(GpuSample.newBuilder().setGpuUuid("GPU-aaaa").setRecoveryAction(a).build(), ok().get(1));
  }
}
