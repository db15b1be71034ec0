package io.gpuwarden.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.VerificationProgress;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The demo's gate table and transition lines. */
class DemoGateTableTest {
  @Test
  void rendersBudgetAndOneRowPerNodeWithLockPendingAndQuarantineDetail() {
    Budget budget = Budget.newBuilder().setPool("demo").setMaxPercentOut(25).setNodesTotal(8).setNodesOut(2).build();
    GateStatus verifying = GateStatus.newBuilder().setNodeId("demo-node-01").setState(GateState.GATE_STATE_VERIFYING)
        .setLock(LockInfo.newBuilder().setReason("demo: rolling firmware update").setActor("demo"))
        .setVerification(VerificationProgress.newBuilder().addPending("soak 3.7s of 10.0s")).build();
    GateStatus quarantined = GateStatus.newBuilder().setNodeId("demo-node-02").setState(GateState.GATE_STATE_QUARANTINED)
        .setQuarantineReason("verification failed: verdict UNHEALTHY: ECC").build();
    GateStatus serving = GateStatus.newBuilder().setNodeId("demo-node-03").setState(GateState.GATE_STATE_SERVING)
        .setAllocatable(true).build();

    assertThat(DemoGateTable.render(List.of(budget), List.of(serving, quarantined, verifying))).isEqualTo("""
        pool demo: 2 of 8 nodes out of service, budget 25% (0 more may be taken)
        NODE          GATE         ALLOCATABLE  DETAIL
        demo-node-01  VERIFYING    no           lock: demo: rolling firmware update (by demo); pending: soak 3.7s of 10.0s
        demo-node-02  QUARANTINED  no           quarantine: verification failed: verdict UNHEALTHY: ECC
        demo-node-03  SERVING      yes
        """);
  }

  @Test
  void transitionLineCarriesTheReasonOfTheNewestTransitionIntoThatState() {
    List<HistoryEntry> history = List.of(
        transition(GateState.GATE_STATE_SERVING, GateState.GATE_STATE_LOCKED, "demo: rolling firmware update", "demo"),
        HistoryEntry.newBuilder().setTime(Timestamp.getDefaultInstance()).build(),
        transition(GateState.GATE_STATE_VERIFYING, GateState.GATE_STATE_SERVING, "verification passed", "gpuwarden"));
    String reason = GateTransitions.reason(history, GateState.GATE_STATE_SERVING);
    assertThat(reason).isEqualTo("verification passed, by gpuwarden");
    assertThat(GateTransitions.reason(history, GateState.GATE_STATE_QUARANTINED)).isEmpty();

    GateTransitions.Change c = new GateTransitions.Change("demo-node-03", GateState.GATE_STATE_VERIFYING,
        GateState.GATE_STATE_SERVING, Instant.parse("2026-11-30T05:12:33.400Z"));
    assertThat(GateTransitions.line(c, reason, Times.utc()))
        .isEqualTo("2026-11-30T05:12:33Z demo-node-03 VERIFYING -> SERVING (verification passed, by gpuwarden)");
  }

  @Test
  void listenerReportsStateChangesOnlyNotANodesFirstStatusOrAllocatableFlips() {
    GateTransitions t = new GateTransitions();
    GateStatus serving = GateStatus.newBuilder().setNodeId("n").setState(GateState.GATE_STATE_SERVING).build();
    t.changed(serving, false);
    t.changed(serving.toBuilder().setAllocatable(true).build(), false);
    t.changed(serving.toBuilder().setState(GateState.GATE_STATE_LOCKED).build(), true);
    assertThat(t.take()).extracting(GateTransitions.Change::to).containsExactly(GateState.GATE_STATE_LOCKED);
    assertThat(t.take()).isEmpty();
  }

  private static HistoryEntry transition(GateState from, GateState to, String reason, String actor) {
    return HistoryEntry.newBuilder().setTransition(GateTransition.newBuilder().setFromState(from).setToState(to)
        .setReason(reason).setActor(actor)).build();
  }
}
