package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryLinesTest {
  private static final Timestamp T = GateFormat.timestamp(Instant.parse("2024-05-01T10:00:07.5Z"));

  @Test
  void transitionReadsFromToByActorWithReasonAndAction() {
    HistoryEntry e = HistoryEntry.newBuilder().setTime(T).setTransition(GateTransition.newBuilder()
        .setFromState(GateState.GATE_STATE_SERVING).setToState(GateState.GATE_STATE_LOCKED)
        .setActor("alice").setReason("swap PSU").setAction("lock")).build();

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01 10:00:07  transition  SERVING -> LOCKED by alice: swap PSU (lock)");
  }

  @Test
  void transitionWithoutReasonOrActionLeavesThemOut() {
    GateTransition t = GateTransition.newBuilder().setFromState(GateState.GATE_STATE_VERIFYING)
        .setToState(GateState.GATE_STATE_SERVING).setActor("gpuwarden").build();

    assertThat(HistoryLines.transition(t)).isEqualTo("VERIFYING -> SERVING by gpuwarden");
  }

  @Test
  void healthyVerdictIsJustTheState() {
    HistoryEntry e = HistoryEntry.newBuilder().setTime(T)
        .setVerdict(Verdict.newBuilder().setState(HealthState.HEALTH_STATE_HEALTHY)).build();

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01 10:00:07  verdict     HEALTHY");
  }

  @Test
  void unhealthyVerdictShowsTheFirstReasonAndCountsTheOthers() {
    Verdict v = Verdict.newBuilder().setState(HealthState.HEALTH_STATE_UNHEALTHY)
        .addReasons(Reason.newBuilder().setMessage("Xid 79 on GPU 2"))
        .addReasons(Reason.newBuilder().setMessage("7 of 8 GPUs present"))
        .addReasons(Reason.newBuilder().setMessage("telemetry stale")).build();

    assertThat(HistoryLines.verdict(v)).isEqualTo("UNHEALTHY: Xid 79 on GPU 2 (+2 more)");
    assertThat(HistoryLines.verdict(v.toBuilder().removeReasons(2).removeReasons(1).build()))
        .isEqualTo("UNHEALTHY: Xid 79 on GPU 2");
  }

  @Test
  void eventShowsItsMessage() {
    HistoryEntry e = HistoryEntry.newBuilder().setTime(T)
        .setEvent(Event.newBuilder().setMessage("Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2")).build();

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01 10:00:07  event       Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2");
  }

  @Test
  void renderPrintsOneLineEachInTheOrderGivenWithKindsAligned() {
    HistoryEntry verdict = HistoryEntry.newBuilder().setTime(T)
        .setVerdict(Verdict.newBuilder().setState(HealthState.HEALTH_STATE_HEALTHY)).build();
    HistoryEntry unknown = HistoryEntry.newBuilder().build();

    String[] lines = HistoryLines.render(List.of(verdict, unknown)).split("\n");

    assertThat(lines).containsExactly("2024-05-01 10:00:07  verdict     HEALTHY", "-                    unknown");
  }
}
