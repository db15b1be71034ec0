package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One evaluation pass of the {@link ReleaseGate} over the nodes that need a look — those whose
 * verdict changed or whose batch arrived while under verification (the change feed says so), and
 * those whose deadline came (a soak ending, a verification deadline) — as one transaction: nodes
 * new to the gate (and pool moves), each through the {@link GateMachine} (automatic quarantine,
 * verification), UNHEALTHY turns counted for the circuit breaker, and the queued locks the policy
 * now allows. Nothing takes effect unless the write succeeds. Runs under the gate's lock; costs
 * the nodes it looks at, not the fleet.
 */
final class EvaluationPass {
  private final ReleaseGate gate;
  private final GateMachine machine;
  private final GatePolicy policy;
  private final Map<String, HealthState> lastVerdicts;
  private final Instant now;
  private final GateWrite write = new GateWrite();
  private final Map<String, GateStatus> next = new LinkedHashMap<>();
  private final Map<String, NodeSummary> byId = new HashMap<>();
  private final PoolCounts counts;
  /** Queued locks this pass granted or dropped: out of the queue once the write succeeded. */
  private final java.util.List<String> dequeued = new java.util.ArrayList<>();

  /** Prepares a pass at {@code now}; {@code lastVerdicts} (the gate's) remembers each node's verdict between passes. */
  EvaluationPass(ReleaseGate gate, Map<String, HealthState> lastVerdicts, Instant now) {
    this.gate = gate;
    this.machine = gate.machine;
    this.policy = gate.policy;
    this.lastVerdicts = lastVerdicts;
    this.now = now;
    this.counts = gate.counts.copy();
  }

  /** Runs the pass over {@code ids}; returns false when its write failed (nothing applied). */
  boolean run(Collection<String> ids) {
    for (String id : ids) {
      NodeSummary n = gate.node(id);
      byId.put(id, n);
      GateStatus s = status(id, n);
      if (s == null) {
        continue;
      }
      GateStatus changed = evaluate(s, n);
      if (changed != null) {
        put(id, s, changed);
      }
    }
    if (!policy.queue().isEmpty()) {
      grantQueued();
    }
    if (!write.isEmpty()) {
      try {
        gate.store.write(write);
      } catch (GateStoreException e) {
        gate.passFailed(e);
        return false;
      }
    }
    dequeued.forEach(policy::dequeued);
    gate.applied(next, byId, now);
    return true;
  }

  /** The node's status: the gate's, a new SERVING one for a node the gate meets now, or its pool moved; null when unknown. */
  private GateStatus status(String id, NodeSummary n) {
    GateStatus s = gate.statuses.get(id);
    if (n == null) {
      return s;
    }
    GateStatus moved = null;
    if (s == null) {
      moved = GateStatus.newBuilder().setNodeId(id).setPool(n.getPool()).setState(GateState.GATE_STATE_SERVING)
          .setSince(ProtoTime.of(now)).build();
    } else if (!n.getPool().isEmpty() && !n.getPool().equals(s.getPool())) {
      moved = s.toBuilder().setPool(n.getPool()).build();
    }
    if (moved != null) {
      put(id, s, moved);
      write.putNode(GateMachine.stored(moved));
      return moved;
    }
    return s;
  }

  private void put(String id, GateStatus before, GateStatus after) {
    GateStatus previous = next.put(id, after);
    counts.change(previous != null ? previous : before, after);
  }

  /** Returns the node's new status when this pass changes it (and adds the write), else null. */
  private GateStatus evaluate(GateStatus s, NodeSummary n) {
    HealthState verdict = GateMachine.verdict(n);
    HealthState before = lastVerdicts.put(s.getNodeId(), verdict);
    if (machine.fresh(n, now) && verdict == HealthState.HEALTH_STATE_UNHEALTHY && before != null
        && before != HealthState.HEALTH_STATE_UNHEALTHY && before != HealthState.HEALTH_STATE_UNKNOWN) {
      Budget tripped = policy.noteUnhealthyTurn(s.getPool(), counts.total(s.getPool()), now);
      if (tripped != null) {
        write.putBudget(tripped);
      }
    }
    GateMachine.Step step = switch (s.getState()) {
      case GATE_STATE_SERVING -> gate.config().autoQuarantine() && !policy.breakerOpen(s.getPool())
          ? machine.autoQuarantine(s, n, now) : null;
      case GATE_STATE_VERIFYING -> machine.verify(s, n, now);
      default -> null;
    };
    return step == null ? null : gate.record(s, step, now, write);
  }

  /** Grants the queued locks the budget and windows allow; drops those whose node is no longer SERVING. */
  private void grantQueued() {
    for (QueuedLock q : policy.queue()) {
      GateStatus s = next.getOrDefault(q.nodeId(), gate.statuses.get(q.nodeId()));
      if (s == null || s.getState() != GateState.GATE_STATE_SERVING) {
        write.dequeue(q.nodeId());
        dequeued.add(q.nodeId());
        continue;
      }
      if (!policy.grantable(s, counts, now)) {
        continue;
      }
      NodeSummary n = byId.computeIfAbsent(q.nodeId(), gate::node);
      String waited = GateText.human(Duration.between(ProtoTime.instant(q.lock().getLockedAt()), now));
      LockInfo lock = q.lock().toBuilder().setLockedAt(ProtoTime.of(now)).setBootIdAtLock(n == null ? "" : n.getBootId()).build();
      GateStatus locked = gate.record(s, machine.lock(s, lock, q.lock().getReason() + " (granted from the queue after " + waited
          + ")", n, now), now, write);
      put(q.nodeId(), s, locked);
      write.dequeue(q.nodeId());
      dequeued.add(q.nodeId());
    }
  }
}
