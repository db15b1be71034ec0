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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One evaluation pass of the {@link ReleaseGate}, as one transaction: nodes new to the gate (and
 * pool moves), every node through the {@link GateMachine} (automatic quarantine, verification),
 * UNHEALTHY turns counted for the circuit breaker, and the queued locks the policy now allows.
 * Nothing takes effect unless the write succeeds. Runs under the gate's lock.
 */
final class EvaluationPass {
  private final ReleaseGate gate;
  private final GateMachine machine;
  private final GatePolicy policy;
  private final Map<String, HealthState> lastVerdicts;
  private final Instant now;
  private final GateWrite write = new GateWrite();
  private final Map<String, GateStatus> next = new HashMap<>();
  private final Map<String, NodeSummary> byId = new HashMap<>();

  /** Prepares a pass at {@code now}; {@code lastVerdicts} (the gate's) remembers each node's verdict between passes. */
  EvaluationPass(ReleaseGate gate, Map<String, HealthState> lastVerdicts, Instant now) {
    this.gate = gate;
    this.machine = gate.machine;
    this.policy = gate.policy;
    this.lastVerdicts = lastVerdicts;
    this.now = now;
  }

  /** Runs the pass; returns false when its write failed (nothing applied). */
  boolean run() {
    Map<String, GateStatus> statuses = gate.statuses;
    for (NodeSummary n : gate.registry.summaries()) {
      byId.put(n.getNodeId(), n);
      GateStatus s = statuses.get(n.getNodeId());
      if (s == null) {
        s = GateStatus.newBuilder().setNodeId(n.getNodeId()).setPool(n.getPool()).setState(GateState.GATE_STATE_SERVING)
            .setSince(ProtoTime.of(now)).build();
      } else if (n.getPool().isEmpty() || n.getPool().equals(s.getPool())) {
        continue;
      } else {
        s = s.toBuilder().setPool(n.getPool()).build();
      }
      next.put(n.getNodeId(), s);
      write.putNode(GateMachine.stored(s));
    }
    Set<String> ids = new TreeSet<>(statuses.keySet());
    ids.addAll(next.keySet());
    for (String id : ids) {
      GateStatus changed = evaluate(next.getOrDefault(id, statuses.get(id)));
      if (changed != null) {
        next.put(id, changed);
      }
    }
    Map<String, GateStatus> view = new HashMap<>(statuses);
    view.putAll(next);
    Map<String, GateStatus> granted = grantQueued(view);
    if (!write.isEmpty()) {
      try {
        gate.store.write(write);
      } catch (GateStoreException e) {
        gate.passFailed(e);
        return false;
      }
    }
    granted.forEach((id, status) -> {
      policy.dequeued(id);
      if (status != null) {
        next.put(id, status);
      }
    });
    gate.applied(next, byId, now);
    return true;
  }

  /** Returns the node's new status when this pass changes it (and adds the write), else null. */
  private GateStatus evaluate(GateStatus s) {
    NodeSummary n = byId.get(s.getNodeId());
    HealthState verdict = GateMachine.verdict(n);
    HealthState before = lastVerdicts.put(s.getNodeId(), verdict);
    if (machine.fresh(n, now) && verdict == HealthState.HEALTH_STATE_UNHEALTHY && before != null
        && before != HealthState.HEALTH_STATE_UNHEALTHY && before != HealthState.HEALTH_STATE_UNKNOWN) {
      Budget tripped = policy.noteUnhealthyTurn(s.getPool(), GatePolicy.total(gate.statuses, s.getPool()), now);
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

  /** Grants queued locks the budget and windows allow; returns node id to its new status (null: just dequeued). */
  private Map<String, GateStatus> grantQueued(Map<String, GateStatus> view) {
    Map<String, GateStatus> done = new LinkedHashMap<>();
    for (QueuedLock q : policy.queue()) {
      GateStatus s = view.get(q.nodeId());
      if (s == null || s.getState() != GateState.GATE_STATE_SERVING) {
        write.dequeue(q.nodeId());
        done.put(q.nodeId(), null);
        continue;
      }
      if (!policy.grantable(s, view, now)) {
        continue;
      }
      NodeSummary n = byId.get(q.nodeId());
      String waited = GateText.human(Duration.between(ProtoTime.instant(q.lock().getLockedAt()), now));
      LockInfo lock = q.lock().toBuilder().setLockedAt(ProtoTime.of(now)).setBootIdAtLock(n == null ? "" : n.getBootId()).build();
      GateStatus locked = gate.record(s, machine.lock(s, lock, q.lock().getReason() + " (granted from the queue after " + waited
          + ")", n, now), now, write);
      view.put(q.nodeId(), locked);
      write.dequeue(q.nodeId());
      done.put(q.nodeId(), locked);
    }
    return done;
  }
}
