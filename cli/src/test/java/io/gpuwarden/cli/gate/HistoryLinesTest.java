package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

class HistoryLinesTest {
  private static final Timestamp T = GateFormat.timestamp(Instant.parse("2024-05-01T10:00:07.5Z"));

  @Test
  void transitionReadsFromToByActorWithReasonAndAction() {
    HistoryEntry e = HistoryEntry.newBuilder().setTime(T).setTransition(GateTransition.newBuilder()
        .setFromState(GateState.GATE_STATE_SERVING).setToState(GateState.GATE_STATE_LOCKED)
        .setActor("alice").setReason("swap PSU").setAction("lock")).build();

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01T10:00:07Z  transition  SERVING -> LOCKED by alice: swap PSU (lock)");
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

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01T10:00:07Z  verdict     HEALTHY");
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

    assertThat(HistoryLines.line(e)).isEqualTo("2024-05-01T10:00:07Z  event       Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2");
  }

  @Test
  void renderPrintsOneLineEachInTheOrderGivenWithKindsAligned() {
    HistoryEntry verdict = HistoryEntry.newBuilder().setTime(T)
        .setVerdict(Verdict.newBuilder().setState(HealthState.HEALTH_STATE_HEALTHY)).build();
    HistoryEntry unknown = HistoryEntry.newBuilder().build();

    String[] lines = HistoryLines.render(List.of(verdict, unknown), Times.utc()).split("\n");

    assertThat(lines).containsExactly("2024-05-01T10:00:07Z  verdict     HEALTHY", "-                     unknown");
  }

  @Test
  void holdAndUnholdSayWhatTheyDidRatherThanAStateChangeThatIsNone() {
    GateTransition hold = GateTransition.newBuilder().setFromState(GateState.GATE_STATE_SERVING)
        .setToState(GateState.GATE_STATE_SERVING).setActor("alice").setReason("RMA ticket 42").setAction("hold").build();
    GateTransition unhold = hold.toBuilder().setAction("unhold").setReason("parts arrived").build();
    GateTransition unholdWithoutNote = hold.toBuilder().setAction("unhold").setReason("hold lifted").build();

    assertThat(HistoryLines.transition(hold)).isEqualTo("hold: RMA ticket 42 (by alice)");
    assertThat(HistoryLines.transition(unhold)).isEqualTo("hold lifted: parts arrived (by alice)");
    assertThat(HistoryLines.transition(unholdWithoutNote)).isEqualTo("hold lifted (by alice)");
  }

  @Test
  void aLocalZoneWidensTheTimeColumnForEveryLine() {
    HistoryEntry verdict = HistoryEntry.newBuilder().setTime(T)
        .setVerdict(Verdict.newBuilder().setState(HealthState.HEALTH_STATE_HEALTHY)).build();

    assertThat(HistoryLines.render(List.of(verdict), Times.withLocal(ZoneId.of("Asia/Kolkata"))))
        .isEqualTo("2024-05-01T10:00:07Z (local 2024-05-01T15:30:07+05:30)  verdict     HEALTHY\n");
  }
}
