package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.time.ZoneId;
import java.util.List;
import org.junit.jupiter.api.Test;

class ActionResultsTest {
  private static NodeActionResult result(String node, NodeActionOutcome outcome, String message) {
    return NodeActionResult.newBuilder().setNodeId(node).setOutcome(outcome).setMessage(message).build();
  }

  @Test
  void printsNodeOutcomeAndMessageAlignedOneLineEach() {
    String text = ActionResults.render(List.of(
        result("gpu-001", NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED, "locked"),
        result("gpu-0100", NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED, "queued: position 1, pool h100-a 5 of 5 out"),
        result("gpu-2", NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED, "pool h100-a budget: 5 of 5 nodes out")), Times.utc());

    assertThat(text.split("\n")).containsExactly(
        "gpu-001   APPLIED  locked",
        "gpu-0100  QUEUED   queued: position 1, pool h100-a 5 of 5 out",
        "gpu-2     REFUSED  pool h100-a budget: 5 of 5 nodes out");
  }

  @Test
  void withoutAMessageTheNewStateIsShown() {
    NodeActionResult r = NodeActionResult.newBuilder().setNodeId("gpu-001").setOutcome(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED)
        .setStatus(GateStatus.newBuilder().setState(GateState.GATE_STATE_VERIFYING)).build();

    assertThat(ActionResults.render(List.of(r), Times.utc())).isEqualTo("gpu-001  APPLIED  now VERIFYING\n");
  }

  @Test
  void timesInTheCollectorsMessagesGetTheLocalTimeBesideThemWhenTimesShowIt() {
    NodeActionResult r = result("gpu-001", NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED,
        "pool p is in no-fly window nfz-1 (training) until 2026-12-03T14:00:00Z; lock refused");

    assertThat(ActionResults.render(List.of(r), Times.utc())).isEqualTo("gpu-001  REFUSED  pool p is in no-fly window nfz-1 "
        + "(training) until 2026-12-03T14:00:00Z; lock refused\n");
    assertThat(ActionResults.render(List.of(r), Times.withLocal(ZoneId.of("Europe/Berlin")))).isEqualTo("gpu-001  REFUSED  "
        + "pool p is in no-fly window nfz-1 (training) until 2026-12-03T14:00:00Z (local 2026-12-03T15:00:00+01:00); "
        + "lock refused\n");
  }

  @Test
  void aNodeTheGateNeverSawMakesTheCommandExitThreeBeforeARefusal() {
    NodeActionResult refused = result("c", NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED, "no");
    NodeActionResult unknown = result("d", NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND, "no such node");

    assertThat(ActionResults.exitCode(List.of(refused, unknown))).isEqualTo(ExitCodes.NOT_FOUND).isEqualTo(3);
  }

  @Test
  void anyRefusalMakesTheCommandExitFourAndQueuedCountsAsSuccess() {
    NodeActionResult applied = result("a", NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED, "");
    NodeActionResult queued = result("b", NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED, "");
    NodeActionResult refused = result("c", NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED, "no");

    assertThat(ActionResults.exitCode(List.of(applied, queued))).isEqualTo(ExitCodes.OK);
    assertThat(ActionResults.exitCode(List.of(applied, refused, queued))).isEqualTo(ExitCodes.REFUSED).isEqualTo(4);
  }

  @Test
  void noResultOrAnUnknownOutcomeIsAFailedCall() {
    assertThat(ActionResults.exitCode(List.of())).isEqualTo(ExitCodes.CALL_FAILED);
    assertThat(ActionResults.exitCode(List.of(result("a", NodeActionOutcome.NODE_ACTION_OUTCOME_UNSPECIFIED, ""))))
        .isEqualTo(ExitCodes.CALL_FAILED);
  }
}
