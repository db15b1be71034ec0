package io.gpuwarden.collector.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The state machine alone: status + node facts + command or time → step or refusal; no store, no clock. */
class GateMachineTest {
  private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
  private final GateMachine machine = new GateMachine(GateConfig.defaults().withVerification(Duration.ofMinutes(5),
      Duration.ofMinutes(30)), Duration.ofSeconds(10));

  private static NodeSummary node(String boot, HealthState state, Instant since, Instant lastSeen) {
    return new NodeSummary("n1", "p", boot, lastSeen, Verdict.newBuilder().setState(state).setSince(ProtoTime.of(since)).build());
  }

  private static GateStatus serving() {
    return GateStatus.newBuilder().setNodeId("n1").setPool("p").setState(GateState.GATE_STATE_SERVING).setSince(ProtoTime.of(T0))
        .build();
  }

  private GateStatus verifying(boolean expectReboot) {
    NodeSummary n = node("boot-1", HealthState.HEALTH_STATE_HEALTHY, T0, T0);
    LockInfo lock = LockInfo.newBuilder().setActor("ops").setReason("bmc").setExpectReboot(expectReboot).setBootIdAtLock("boot-1")
        .build();
    GateStatus locked = machine.lock(serving(), lock, "bmc", n, T0).next();
    return machine.complete(locked, "", "ops", n, T0).step().next();
  }

  @Test
  void verificationPassesAfterTheSoakWithANewBootAndNotBefore() {
    GateStatus v = verifying(true);
    Instant t = T0.plus(Duration.ofMinutes(6));
    NodeSummary sameBoot = node("boot-1", HealthState.HEALTH_STATE_HEALTHY, T0, t);
    assertThat(machine.verify(v, sameBoot, t)).as("nothing to record: still waiting").isNull();
    assertThat(machine.pending(v, sameBoot, t)).anySatisfy(p -> assertThat(p).contains("new boot id"));

    Instant booted = T0.plus(Duration.ofMinutes(7));
    GateMachine.Step newBoot = machine.verify(v, node("boot-2", HealthState.HEALTH_STATE_HEALTHY, booted, booted), booted);
    assertThat(newBoot.persist()).as("the new boot and the soak's start are kept").isTrue();
    assertThat(newBoot.next().getVerification().getPendingList()).as("what it waits for is derived on read").isEmpty();
    GateStatus seen = newBoot.next();
    Instant soaked = booted.plus(Duration.ofMinutes(5));
    GateMachine.Step pass = machine.verify(seen, node("boot-2", HealthState.HEALTH_STATE_HEALTHY, booted, soaked), soaked);
    assertThat(pass.next().getState()).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(pass.transition().getAction()).isEqualTo("release");
    assertThat(pass.transition().getActor()).isEqualTo(GateMachine.SYSTEM_ACTOR);
    assertThat(pass.transition().getReason()).contains("verification passed").contains("new boot boot-2");
  }

  @Test
  void staleTelemetryNeverPassesVerification() {
    GateStatus v = verifying(false);
    Instant t = T0.plus(Duration.ofMinutes(10));
    NodeSummary stale = node("boot-1", HealthState.HEALTH_STATE_HEALTHY, T0, t.minusSeconds(11));
    GateMachine.Step step = machine.verify(v, stale, t);
    assertThat(step == null ? v.getState() : step.next().getState()).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(machine.pending(v, stale, t)).anySatisfy(p -> assertThat(p).startsWith("telemetry stale"));
  }

  @Test
  void anUnhealthyVerdictDuringVerificationQuarantinesAndTheDeadlineToo() {
    GateStatus v = verifying(false);
    Instant t = T0.plusSeconds(30);
    GateMachine.Step failed = machine.verify(v, node("boot-1", HealthState.HEALTH_STATE_UNHEALTHY, t, t), t);
    assertThat(failed.next().getState()).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(failed.transition().getAction()).isEqualTo("verify-failed");

    Instant late = T0.plus(Duration.ofMinutes(31));
    GateMachine.Step timedOut = machine.verify(v, node("boot-1", HealthState.HEALTH_STATE_DEGRADED, T0, late), late);
    assertThat(timedOut.next().getState()).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(timedOut.transition().getReason()).startsWith("verification timed out after 31m");
  }

  @Test
  void holdKeepsTheStateAndIsRecordedAsAHold() {
    GateMachine.Decision d = machine.hold(serving(), "firmware check", "alice", null, T0);
    assertThat(d.refusal()).isNull();
    assertThat(d.step().next().getState()).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(d.step().next().getHeld()).isTrue();
    assertThat(d.step().transition().getAction()).isEqualTo("hold");
    assertThat(machine.hold(d.step().next(), "again", "alice", null, T0).refusal()).startsWith("already held");
    assertThat(machine.unhold(serving(), "", "alice", null, T0).refusal()).isEqualTo("node is not held");
  }

  @Test
  void refusalsSayWhy() {
    GateStatus v = verifying(false);
    assertThat(machine.canLock(v).refusal()).isEqualTo("node is VERIFYING since 2026-12-03T10:00:00Z: only SERVING nodes can be locked");
    assertThat(machine.release(v, false, "r", "a", null, T0).refusal()).contains("needs --force");
    assertThat(machine.release(serving(), true, "r", "a", null, T0).refusal()).isEqualTo("node is already SERVING");
    assertThat(machine.complete(serving(), "", "a", null, T0).refusal()).contains("only LOCKED nodes can complete");
    assertThat(machine.repairDone(serving(), "", false, "a", null, T0).refusal()).contains("only QUARANTINED nodes");
  }

  @Test
  void onlyAFreshServingNodeIsAllocatable() {
    NodeSummary fresh = node("boot-1", HealthState.HEALTH_STATE_HEALTHY, T0, T0);
    assertThat(machine.notAllocatableReasons(serving(), fresh, T0.plusSeconds(5))).isEmpty();
    assertThat(machine.notAllocatableReasons(serving(), fresh, T0.plusSeconds(11))).singleElement().asString()
        .startsWith("telemetry stale");
    assertThat(machine.notAllocatableReasons(serving(), null, T0)).containsExactly("no telemetry since the collector started");
    assertThat(machine.notAllocatableReasons(serving(), node("b", HealthState.HEALTH_STATE_UNHEALTHY, T0, T0), T0))
        .singleElement().asString().startsWith("verdict UNHEALTHY");
  }
}
