package io.gpuwarden.collector.gate;

import static io.gpuwarden.collector.gate.GateHarness.only;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every transition and every refusal of the release gate, over a real store and registry. */
class ReleaseGateTest {
  private static final Duration SOAK = Duration.ofMinutes(5);
  private static final Duration TIMEOUT = Duration.ofMinutes(30);
  private static final Duration STEP = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  private GateHarness h;

  private GateHarness harness(GateConfig config) {
    h = new GateHarness(dir, config);
    return h;
  }

  private GateHarness harness() {
    return harness(GateConfig.defaults().withVerification(SOAK, TIMEOUT).withBudget(50, 0));
  }

  @AfterEach
  void close() {
    if (h != null) {
      h.close();
    }
  }

  private static String states(List<HistoryEntry> history) {
    StringBuilder s = new StringBuilder();
    for (HistoryEntry e : history) {
      if (e.hasTransition()) {
        s.append(e.getTransition().getFromState().name().replace("GATE_STATE_", "")).append("->")
            .append(e.getTransition().getToState().name().replace("GATE_STATE_", "")).append(' ');
      }
    }
    return s.toString().trim();
  }

  @Test
  void lockCompleteSoakReleasesByItselfAndAuditsEveryStep() {
    GateHarness g = harness();
    g.nodes("a", 10);
    g.tick();
    assertThat(g.status("a-001").getAllocatable()).isTrue();

    NodeActionResult locked = only(g.gate.lock(List.of("a-001"), "replace PSU", false, false, "alice"));
    assertThat(locked.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    assertThat(g.state("a-001")).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(g.status("a-001").getAllocatable()).isFalse();
    assertThat(g.status("a-001").getNotAllocatableReasonsList()).contains("gate LOCKED");

    only(g.gate.complete(List.of("a-001"), "PSU replaced", "alice"));
    assertThat(g.state("a-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    g.healthyFor(SOAK.minusSeconds(10), STEP);
    assertThat(g.state("a-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(g.status("a-001").getVerification().getPendingList()).anySatisfy(p -> assertThat(p).startsWith("soak "));
    g.healthyFor(Duration.ofSeconds(15), STEP);
    assertThat(g.state("a-001")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(g.status("a-001").getAllocatable()).isTrue();

    List<HistoryEntry> history = g.history("a-001", Instant.EPOCH, 0);
    assertThat(states(history)).isEqualTo("SERVING->LOCKED LOCKED->VERIFYING VERIFYING->SERVING");
    List<HistoryEntry> transitions = history.stream().filter(HistoryEntry::hasTransition).toList();
    assertThat(transitions.get(0).getTransition().getActor()).isEqualTo("alice");
    assertThat(transitions.get(0).getTransition().getReason()).isEqualTo("replace PSU");
    assertThat(transitions.get(0).getTransition().getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(transitions.get(2).getTransition().getActor()).isEqualTo(ReleaseGate.SYSTEM_ACTOR);
    assertThat(transitions.get(2).getTransition().getReason()).startsWith("verification passed");
  }

  @Test
  void lockOverBudgetIsRefusedWithTheNumbersOrQueuedAndGrantedFirstInFirstOut() {
    GateHarness g = harness(GateConfig.defaults().withVerification(SOAK, TIMEOUT).withBudget(5, 0));
    g.nodes("p", 40); // 5% of 40 = 2 nodes
    g.tick();
    assertThat(g.gate.lock(List.of("p-001", "p-002"), "kernel update", false, false, "ops"))
        .extracting(NodeActionResult::getOutcome).containsOnly(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    NodeActionResult refused = only(g.gate.lock(List.of("p-003"), "kernel update", false, false, "ops"));
    assertThat(refused.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED);
    assertThat(refused.getMessage()).contains("2 of 40 nodes out of service").contains("2 (5% of 40 nodes)").contains("--wait");
    assertThat(g.state("p-003")).isEqualTo(GateState.GATE_STATE_SERVING);

    assertThat(g.gate.lock(List.of("p-004", "p-005"), "kernel update", false, true, "ops"))
        .extracting(NodeActionResult::getOutcome).containsOnly(NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED);
    assertThat(g.gate.budgets("p").get(0).getQueuedLocks()).isEqualTo(2);
    assertThat(g.gate.budgets("p").get(0).getRefusedLocks()).isEqualTo(3);
    g.tick();
    assertThat(g.state("p-004")).isEqualTo(GateState.GATE_STATE_SERVING);

    // p-001 comes back: exactly one slot frees, and the first in the queue gets it
    g.gate.complete(List.of("p-001"), "", "ops");
    g.healthyFor(SOAK.plusSeconds(10), STEP);
    assertThat(g.state("p-001")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(g.state("p-004")).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(g.state("p-005")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(g.status("p-004").getLock().getActor()).isEqualTo("ops");
    assertThat(g.gate.queued()).isEqualTo(1);
  }

  @Test
  void unhealthyNodeCanAlwaysBeTakenAndCountsAgainstTheBudget() {
    GateHarness g = harness(GateConfig.defaults().withVerification(SOAK, TIMEOUT).withBudget(0, 1));
    g.nodes("e", 5);
    g.tick();
    only(g.gate.lock(List.of("e-001"), "planned", false, false, "ops"));
    g.report("e-002", HealthState.HEALTH_STATE_UNHEALTHY);
    g.tick();
    NodeActionResult emergency = only(g.gate.lock(List.of("e-002"), "Xid 79", true, false, "ops"));
    assertThat(emergency.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    assertThat(emergency.getStatus().getLock().getEmergency()).isTrue();
    assertThat(g.gate.budgets("e").get(0).getNodesOut()).isEqualTo(2);
    assertThat(only(g.gate.lock(List.of("e-003"), "planned", false, false, "ops")).getOutcome())
        .isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED);
  }

  @Test
  void noFlyWindowRefusesOrQueuesNonEmergencyLocksAndCountsThem() {
    GateHarness g = harness();
    g.nodes("n", 10);
    g.tick();
    NoFlyHelper.add(g, "n", Duration.ofMinutes(-1), Duration.ofMinutes(10), "training run for acme");
    NodeActionResult refused = only(g.gate.lock(List.of("n-001"), "firmware", false, false, "ops"));
    assertThat(refused.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED);
    assertThat(refused.getMessage()).contains("no-fly window").contains("training run for acme");
    NodeActionResult queued = only(g.gate.lock(List.of("n-002"), "firmware", false, true, "ops"));
    assertThat(queued.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED);
    assertThat(g.gate.windows("n", false).get(0).getRefusedLocks()).isEqualTo(2);
    assertThat(g.gate.budgets("n").get(0).getRefusedLocks()).isEqualTo(2);
    g.healthyFor(Duration.ofMinutes(5), STEP);
    assertThat(g.state("n-002")).isEqualTo(GateState.GATE_STATE_SERVING);
    g.healthyFor(Duration.ofMinutes(6), STEP);
    assertThat(g.state("n-002")).isEqualTo(GateState.GATE_STATE_LOCKED);
    // other pools are not affected
    g.node("other-1", "other");
    g.tick();
    assertThat(only(g.gate.lock(List.of("other-1"), "x", false, false, "ops")).getOutcome())
        .isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
  }

  @Test
  void staleTelemetryBlocksReleaseAndAllocationFailClosed() {
    GateHarness g = harness();
    g.nodes("s", 10);
    g.tick();
    g.gate.lock(List.of("s-001"), "x", false, false, "ops");
    g.gate.complete(List.of("s-001"), "", "ops");
    g.advance(SOAK.plusMinutes(1)); // no batches at all: stale
    g.tick();
    assertThat(g.state("s-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(g.status("s-001").getVerification().getPendingList()).anySatisfy(p -> assertThat(p).contains("telemetry stale"));
    assertThat(g.status("s-002").getAllocatable()).isFalse();
    assertThat(g.status("s-002").getNotAllocatableReasonsList()).anySatisfy(r -> assertThat(r).contains("telemetry stale"));
  }

  @Test
  void degradedDuringSoakRestartsItAndUnhealthyQuarantines() {
    GateHarness g = harness();
    g.nodes("d", 10);
    g.tick();
    g.gate.lock(List.of("d-001", "d-002"), "x", false, false, "ops");
    g.gate.complete(List.of("d-001", "d-002"), "", "ops");
    g.healthyFor(Duration.ofMinutes(4), STEP);
    g.report("d-001", HealthState.HEALTH_STATE_DEGRADED);
    g.report("d-002", HealthState.HEALTH_STATE_UNHEALTHY);
    g.tick();
    assertThat(g.state("d-002")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(g.status("d-002").getQuarantineReason()).startsWith("verification failed: verdict UNHEALTHY").contains("injected");
    assertThat(g.state("d-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(g.status("d-001").getVerification().hasHealthySince()).isFalse();
    g.healthyFor(Duration.ofMinutes(4), STEP); // soak starts over: 4 min is not enough
    assertThat(g.state("d-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    g.healthyFor(Duration.ofMinutes(1).plusSeconds(10), STEP);
    assertThat(g.state("d-001")).isEqualTo(GateState.GATE_STATE_SERVING);
  }

  @Test
  void expectedRebootNeedsANewBootIdAndTimesOutIntoQuarantineWithout() {
    GateHarness g = harness();
    g.nodes("r", 10);
    g.tick();
    g.gate.lock(List.of("r-001", "r-002"), "driver upgrade", true, false, "ops");
    g.gate.complete(List.of("r-001", "r-002"), "", "ops");
    g.reboot("r-002");
    g.healthyFor(SOAK.plusSeconds(10), STEP);
    assertThat(g.state("r-002")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(g.state("r-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(g.status("r-001").getVerification().getPendingList())
        .anySatisfy(p -> assertThat(p).startsWith("waiting for a new boot id (was boot-1)"));
    g.healthyFor(TIMEOUT, Duration.ofSeconds(30));
    assertThat(g.state("r-001")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(g.status("r-001").getQuarantineReason()).startsWith("verification timed out").contains("new boot id");

    // repair-done: back to verification, this time without a reboot expected
    NodeActionResult repaired = g.gate.repairDone("r-001", "reseated GPU", false, "bob");
    assertThat(repaired.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    assertThat(g.state("r-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    g.healthyFor(SOAK.plusSeconds(10), STEP);
    assertThat(g.state("r-001")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(states(g.history("r-001", Instant.EPOCH, 0)))
        .isEqualTo("SERVING->LOCKED LOCKED->VERIFYING VERIFYING->QUARANTINED QUARANTINED->VERIFYING VERIFYING->SERVING");
  }

  @Test
  void heldNodeIsNeverReleasedByAutomationAndForceReleaseIsAuditedAndRefusedWhileHeld() {
    GateHarness g = harness();
    g.nodes("h", 10);
    g.tick();
    g.gate.lock(List.of("h-001"), "x", false, false, "ops");
    g.gate.complete(List.of("h-001"), "", "ops");
    assertThat(g.gate.hold("h-001", "waiting for vendor RMA", "carol").getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    g.healthyFor(SOAK.multipliedBy(3), STEP);
    assertThat(g.state("h-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(g.status("h-001").getVerification().getPendingList()).contains("held: waiting for vendor RMA");
    NodeActionResult forced = g.gate.release("h-001", true, "need capacity", "carol");
    assertThat(forced.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED);
    assertThat(forced.getMessage()).contains("held").contains("unhold");
    g.gate.unhold("h-001", "", "carol");
    g.tick();
    assertThat(g.state("h-001")).isEqualTo(GateState.GATE_STATE_SERVING);

    // a SERVING node on hold is not allocatable and counts as out
    g.gate.hold("h-002", "suspicious fan", "carol");
    g.tick();
    assertThat(g.status("h-002").getAllocatable()).isFalse();
    assertThat(g.gate.budgets("h").get(0).getNodesOut()).isEqualTo(1);

    g.gate.lock(List.of("h-003"), "x", false, false, "ops");
    assertThat(g.gate.release("h-003", false, "why not", "dave").getMessage()).contains("--force");
    NodeActionResult released = g.gate.release("h-003", true, "emergency capacity", "dave");
    assertThat(released.getOutcome()).isEqualTo(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    HistoryEntry last = g.history("h-003", Instant.EPOCH, 1).get(0);
    assertThat(last.getTransition().getAction()).isEqualTo("force-release");
    assertThat(last.getTransition().getActor()).isEqualTo("dave");
  }

  @Test
  void refusalsNameTheState() {
    GateHarness g = harness();
    g.nodes("x", 10);
    g.tick();
    assertThat(only(g.gate.lock(List.of("nope"), "x", false, false, "ops")).getMessage()).startsWith("no such node");
    assertThat(only(g.gate.complete(List.of("x-001"), "", "ops")).getMessage()).contains("SERVING");
    g.gate.lock(List.of("x-001"), "x", false, false, "ops");
    assertThat(only(g.gate.lock(List.of("x-001"), "x", false, false, "ops")).getMessage()).contains("LOCKED");
    assertThat(g.gate.repairDone("x-001", "", false, "ops").getMessage()).contains("only QUARANTINED");
    g.gate.quarantine("x-001", "bad DIMM", "ops");
    assertThat(only(g.gate.complete(List.of("x-001"), "", "ops")).getMessage()).contains("repair-done");
    assertThat(g.gate.unhold("x-002", "", "ops").getMessage()).contains("not held");
  }

  @Test
  void autoQuarantineAndTheCircuitBreaker() {
    GateHarness g = harness(GateConfig.defaults().withVerification(SOAK, TIMEOUT).withAutoQuarantine(true)
        .withBreaker(Duration.ofMinutes(5), 0.1, 3));
    g.nodes("c", 30); // breaker opens at more than 3 turns (10% of 30) and at least 3
    g.tick();
    g.report("c-001", HealthState.HEALTH_STATE_UNHEALTHY);
    g.tick();
    assertThat(g.state("c-001")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(g.status("c-001").getQuarantineReason()).startsWith("node turned UNHEALTHY");
    for (String id : List.of("c-002", "c-003", "c-004")) {
      g.report(id, HealthState.HEALTH_STATE_UNHEALTHY);
    }
    g.tick();
    assertThat(g.gate.breakerOpen("c")).isTrue();
    assertThat(g.gate.budgets("c").get(0).getCircuitBreakerOpen()).isTrue();
    g.report("c-005", HealthState.HEALTH_STATE_UNHEALTHY);
    g.tick();
    assertThat(g.state("c-005")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(g.status("c-005").getAllocatable()).isFalse(); // still never allocatable

    g.gate.resetBreaker("c", "rule fixed", "ops");
    assertThat(g.gate.breakerOpen("c")).isFalse();
    g.report("c-006", HealthState.HEALTH_STATE_UNHEALTHY);
    g.tick();
    assertThat(g.state("c-006")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
  }

  @Test
  void restartKeepsStateHistoryAndTimersAndFailsClosedUntilFreshTelemetry() {
    GateHarness g = harness();
    g.nodes("k", 10);
    g.tick();
    g.gate.lock(List.of("k-001", "k-002", "k-003", "k-004"), "x", false, false, "ops");
    g.gate.complete(List.of("k-002", "k-003"), "", "ops");
    g.gate.quarantine("k-004", "bad cable", "ops");
    g.gate.hold("k-005", "look at fan", "ops");
    g.healthyFor(Duration.ofMinutes(2), STEP);
    g.report("k-003", HealthState.HEALTH_STATE_DEGRADED);
    g.tick();
    List<GateStatus> before = g.gate.statuses(s -> true);
    List<List<HistoryEntry>> historyBefore = new ArrayList<>();
    for (GateStatus s : before) {
      historyBefore.add(g.history(s.getNodeId(), Instant.EPOCH, 0));
    }
    Instant deadline = io.gpuwarden.common.ProtoTime.instant(g.status("k-003").getVerification().getDeadline());

    g.restart();
    List<GateStatus> after = g.gate.statuses(s -> true);
    assertThat(after).extracting(GateStatus::getNodeId).containsExactlyElementsOf(before.stream().map(GateStatus::getNodeId).toList());
    for (int i = 0; i < before.size(); i++) {
      assertThat(withoutDerived(after.get(i))).isEqualTo(withoutDerived(before.get(i)));
      assertThat(after.get(i).getAllocatable()).as("fail closed after restart").isFalse();
      assertThat(g.history(after.get(i).getNodeId(), Instant.EPOCH, 0)).isEqualTo(historyBefore.get(i));
    }
    // k-002 keeps its soak start (healthy for 2 min before the restart): it needs only the rest once fresh again
    g.healthyFor(Duration.ofMinutes(3).plusSeconds(10), STEP);
    assertThat(g.state("k-002")).isEqualTo(GateState.GATE_STATE_SERVING);
    // k-003's deadline resumes: it is the same instant as before the restart
    assertThat(io.gpuwarden.common.ProtoTime.instant(g.status("k-003").getVerification().getDeadline())).isEqualTo(deadline);
    assertThat(g.state("k-001")).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(g.state("k-004")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(g.status("k-005").getHeld()).isTrue();
  }

  /** Allocatability and the pending list are recomputed on every pass, not stored. */
  private static GateStatus withoutDerived(GateStatus s) {
    GateStatus.Builder b = s.toBuilder().clearAllocatable().clearNotAllocatableReasons();
    b.getVerificationBuilder().clearPending();
    return b.build();
  }

  @Test
  void aFailedStoreWriteChangesNothingAndIsReported() {
    GateHarness g = harness();
    g.nodes("f", 10);
    g.tick();
    g.store.close(); // any write now fails
    assertThatThrownBy(() -> g.gate.lock(List.of("f-001"), "x", false, false, "ops")).isInstanceOf(GateStoreException.class);
    assertThat(g.state("f-001")).isEqualTo(GateState.GATE_STATE_SERVING);
    h = null; // store already closed
    g.gate.close();
  }

  @Test
  void timeAloneReleasesANodeAtTheEndOfItsSoakWithoutAnyNewBatch() {
    GateHarness g = harness(GateConfig.defaults().withVerification(Duration.ofSeconds(5), Duration.ofMinutes(5)));
    g.node("t-001", "t");
    g.tick();
    g.gate.lock(List.of("t-001"), "firmware", false, false, "ops");
    g.gate.complete(List.of("t-001"), "", "ops");
    g.tick(); // verification starts; the node is HEALTHY and fresh: its soak runs from now
    g.advance(Duration.ofSeconds(4));
    g.tick();
    assertThat(g.state("t-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    g.advance(Duration.ofMillis(1100)); // 5.1 s after the start, no batch since: still fresh (stale after 10 s)
    g.tick();
    assertThat(g.state("t-001")).as("released by its timer").isEqualTo(GateState.GATE_STATE_SERVING);
  }

  @Test
  void aHeldNodeUnderVerificationTimesOutAtItsDeadlineWithNothingElseHappening() {
    GateHarness g = harness(GateConfig.defaults().withVerification(Duration.ofSeconds(5), Duration.ofSeconds(60)));
    g.node("t-001", "t");
    g.tick();
    g.gate.lock(List.of("t-001"), "firmware", false, false, "ops");
    g.gate.complete(List.of("t-001"), "", "ops");
    g.gate.hold("t-001", "waiting for the vendor", "ops");
    g.tick();
    g.advance(Duration.ofSeconds(6)); // soak over, but held
    g.tick();
    assertThat(g.state("t-001")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    g.advance(Duration.ofSeconds(55)); // the node went stale long ago; its deadline passes now
    g.tick();
    assertThat(g.state("t-001")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
  }

  @Test
  void aPassLooksOnlyAtTheNodesThatChanged() {
    GateHarness g = harness();
    g.nodes("p", 50);
    g.tick();
    assertThat(g.gate.lastPassNodes()).isEqualTo(50); // every node is new to the gate
    g.tick();
    assertThat(g.gate.lastPassNodes()).as("nothing changed").isZero();
    g.report("p-007", HealthState.HEALTH_STATE_DEGRADED);
    g.tick();
    assertThat(g.gate.lastPassNodes()).isEqualTo(1);
  }
}
