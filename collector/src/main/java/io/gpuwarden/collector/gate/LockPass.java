package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.NoFlyWindow;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code lock} command over several nodes, as one transaction: each node is locked, queued
 * (with {@code wait}) or refused in turn, later nodes seeing the budget the earlier ones used, and
 * every refusal counted on its budget or window. Runs under the {@link ReleaseGate}'s lock.
 */
final class LockPass {
  private final ReleaseGate gate;
  private final GateMachine machine;
  private final GatePolicy policy;
  private final List<String> nodeIds;
  private final String reason;
  private final boolean expectReboot;
  private final boolean wait;
  private final String actor;
  private final Instant now;
  private final PoolCounts counts;
  private final Map<String, GateStatus> changed = new LinkedHashMap<>();
  private final GateWrite write = new GateWrite();
  private final Map<String, Budget> budgetCounters = new HashMap<>();
  private final Map<String, NoFlyWindow> windowCounters = new HashMap<>();
  private final Map<String, QueuedLock> enqueued = new LinkedHashMap<>();
  private long sequence;

  LockPass(ReleaseGate gate, List<String> nodeIds, String reason, boolean expectReboot, boolean wait, String actor) {
    this.gate = gate;
    this.machine = gate.machine;
    this.policy = gate.policy;
    this.nodeIds = nodeIds;
    this.reason = reason;
    this.expectReboot = expectReboot;
    this.wait = wait;
    this.actor = actor;
    this.now = gate.clock.instant();
    this.counts = gate.counts.copy();
    this.sequence = policy.lastQueueSequence();
  }

  List<NodeActionResult> run() {
    List<NodeActionResult> results = new ArrayList<>();
    for (String id : nodeIds) {
      results.add(one(id));
    }
    budgetCounters.values().forEach(write::putBudget);
    windowCounters.values().forEach(write::putWindow);
    gate.store.write(write);
    budgetCounters.values().forEach(policy::putBudget);
    windowCounters.values().forEach(policy::putWindow);
    policy.enqueued(enqueued.values());
    gate.applied(changed, now);
    return results.stream().map(gate::withView).toList();
  }

  private NodeActionResult one(String id) {
    GateStatus s = changed.getOrDefault(id, gate.statuses.get(id));
    if (s == null) {
      return ReleaseGate.notFound(id);
    }
    GateMachine.Decision may = machine.canLock(s);
    if (may.refusal() != null) {
      return ReleaseGate.refused(id, may.refusal(), s);
    }
    if (policy.queued(id) || enqueued.containsKey(id)) {
      return ReleaseGate.refused(id, "a lock of this node is already queued", s);
    }
    NodeSummary n = gate.node(id);
    boolean emergency = n != null && n.hasVerdict() && n.getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY;
    LockInfo lock = LockInfo.newBuilder().setReason(reason).setActor(actor).setLockedAt(ProtoTime.of(now))
        .setExpectReboot(expectReboot).setBootIdAtLock(n == null ? "" : n.getBootId()).setEmergency(emergency).build();
    GatePolicy.Blocked blocked = emergency ? null : policy.blocked(s, counts, now);
    if (blocked != null) {
      count(s.getPool(), blocked);
      if (!wait) {
        return ReleaseGate.refused(id, blocked.reason() + "; lock refused (use --wait to queue it)", s);
      }
      QueuedLock q = new QueuedLock(++sequence, id, s.getPool(), lock);
      enqueued.put(id, q);
      write.enqueue(q);
      return ReleaseGate.result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED,
          blocked.reason() + "; queued at position " + (policy.queue().size() + enqueued.size()), s);
    }
    GateStatus locked = gate.record(s, machine.lock(s, lock, reason + (emergency ? " (emergency: node UNHEALTHY)" : ""), n, now),
        now, write);
    counts.change(s, locked);
    changed.put(id, locked);
    return ReleaseGate.result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED,
        emergency ? "locked (emergency: UNHEALTHY nodes bypass budget and no-fly windows, and count against the budget)"
            : "locked", locked);
  }

  /** Counts one refused lock on the window or the pool's budget that refused it. */
  private void count(String pool, GatePolicy.Blocked blocked) {
    if (blocked.window() != null) {
      NoFlyWindow w = windowCounters.getOrDefault(blocked.window().getId(), blocked.window());
      windowCounters.put(w.getId(), policy.refusedOne(w));
    }
    Budget b = budgetCounters.getOrDefault(pool, policy.budget(pool));
    budgetCounters.put(pool, policy.refusedOne(b));
  }
}
