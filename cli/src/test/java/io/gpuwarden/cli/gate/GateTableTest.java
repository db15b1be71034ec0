package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.VerificationProgress;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

class GateTableTest {
  private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

  private static GateStatus.Builder status(String node, GateState state) {
    return GateStatus.newBuilder().setNodeId(node).setPool("h100-a").setState(state)
        .setSince(GateFormat.timestamp(NOW.minus(Duration.ofMinutes(12))));
  }

  @Test
  void rendersOneAlignedRowPerNodeSortedByNodeId() {
    String table = GateTable.render(List.of(
        status("gpu-010", GateState.GATE_STATE_LOCKED)
            .setLock(LockInfo.newBuilder().setReason("swap PSU").setActor("alice")).build(),
        status("gpu-002", GateState.GATE_STATE_SERVING).setAllocatable(true).build()), NOW, Times.utc());

    String[] lines = table.split("\n");
    assertThat(lines[0]).isEqualTo("NODE     POOL    STATE    ALLOCATABLE  HELD  SINCE                           DETAIL");
    assertThat(lines[1]).isEqualTo("gpu-002  h100-a  SERVING  yes          no    2024-05-01T11:48:00Z (12m ago)");
    assertThat(lines[2]).isEqualTo("gpu-010  h100-a  LOCKED   no           no    2024-05-01T11:48:00Z (12m ago)  "
        + "lock: swap PSU (by alice)");
  }

  @Test
  void sinceShowsTheLocalTimeTooWhenTimesShowIt() {
    GateStatus s = status("gpu-002", GateState.GATE_STATE_SERVING).build();

    assertThat(GateTable.since(s, NOW, Times.withLocal(ZoneId.of("America/New_York"))))
        .isEqualTo("2024-05-01T11:48:00Z (local 2024-05-01T07:48:00-04:00) (12m ago)");
    assertThat(GateTable.since(s.toBuilder().clearSince().build(), NOW, Times.utc())).isEqualTo("-");
  }

  @Test
  void detailOfAVerifyingNodeListsWhatIsPendingJoinedBySemicolons() {
    GateStatus s = status("gpu-001", GateState.GATE_STATE_VERIFYING)
        .setLock(LockInfo.newBuilder().setReason("driver upgrade").setActor("bob"))
        .setVerification(VerificationProgress.newBuilder().addPending("telemetry stale").addPending("7 of 8 GPUs present"))
        .build();

    assertThat(GateTable.detail(s))
        .isEqualTo("lock: driver upgrade (by bob); pending: telemetry stale; 7 of 8 GPUs present");
  }

  @Test
  void detailShowsHoldBeforeQuarantineReason() {
    GateStatus s = status("gpu-001", GateState.GATE_STATE_QUARANTINED).setHeld(true).setHoldReason("RMA ticket 42")
        .setQuarantineReason("verification failed: Xid 79").build();

    assertThat(GateTable.detail(s)).isEqualTo("hold: RMA ticket 42; quarantine: verification failed: Xid 79");
  }

  @Test
  void detailOfAServingNodeThatIsNotAllocatableGivesTheCollectorsReasons() {
    GateStatus s = status("gpu-001", GateState.GATE_STATE_SERVING).setAllocatable(false)
        .addNotAllocatableReasons("verdict UNHEALTHY").addNotAllocatableReasons("telemetry stale").build();

    assertThat(GateTable.detail(s)).isEqualTo("verdict UNHEALTHY; telemetry stale");
    assertThat(GateTable.detail(s.toBuilder().setAllocatable(true).clearNotAllocatableReasons().build())).isEmpty();
  }

  @Test
  void emergencyLockIsCalledOut() {
    GateStatus s = status("gpu-001", GateState.GATE_STATE_LOCKED)
        .setLock(LockInfo.newBuilder().setReason("Xid 79").setActor("gpuwarden").setEmergency(true)).build();

    assertThat(GateTable.detail(s)).isEqualTo("emergency lock: Xid 79 (by gpuwarden)");
  }
}
