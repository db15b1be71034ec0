package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.schedule.Deadlines;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which nodes the {@link ReleaseGate}'s next pass must look at, so that a pass costs the nodes that
 * changed, not the fleet: those the change feed says changed (a verdict; a batch of a node under
 * verification, which may carry a new boot id; a node or pool new to the gate), and those whose
 * time came (a soak ending, a verification deadline). Staleness reaches the gate as a verdict change
 * (the registry marks a silent node UNKNOWN on its own deadline).
 *
 * <p>Thread-safe: the feed marks nodes from ingest threads; the gate takes them on its own.
 */
final class GateAttention {
  private final Duration soak;
  private final Set<String> dirty = ConcurrentHashMap.newKeySet();
  private final Deadlines<String> timers = new Deadlines<>();
  /** Each known node's pool, and the nodes under verification, as of the last pass. */
  private final Map<String, String> poolOf = new ConcurrentHashMap<>();
  private final Set<String> verifying = ConcurrentHashMap.newKeySet();

  GateAttention(Duration soak) {
    this.soak = soak;
  }

  /** Takes one change of the feed: marks the nodes that need a look. Runs on the publisher's thread. */
  void heard(Change change) {
    if (change instanceof Change.VerdictChanged v) {
      dirty.add(v.nodeId());
    } else if (change instanceof Change.BatchApplied b
        && (verifying.contains(b.nodeId()) || !b.pool().equals(poolOf.get(b.nodeId())))) {
      dirty.add(b.nodeId());
    }
  }

  /** Returns, and forgets, the nodes to look at now, in node id order. */
  Set<String> take(Instant now) {
    Set<String> ids = new TreeSet<>();
    for (Iterator<String> it = dirty.iterator(); it.hasNext(); ) {
      ids.add(it.next());
      it.remove();
    }
    ids.addAll(timers.due(now));
    return ids;
  }

  /** Marks nodes to look at in the next pass (one that failed to write). */
  void again(Collection<String> ids) {
    dirty.addAll(ids);
  }

  /** Notes a node's status as in force: its pool, whether it is under verification, and its next timer. */
  void track(GateStatus s) {
    poolOf.put(s.getNodeId(), s.getPool());
    if (s.getState() != GateState.GATE_STATE_VERIFYING) {
      verifying.remove(s.getNodeId());
      timers.cancel(s.getNodeId());
      return;
    }
    verifying.add(s.getNodeId());
    if (!s.getVerification().hasHealthySince()) {
      dirty.add(s.getNodeId()); // its soak may start at once: the next pass sees whether it is fresh and HEALTHY
    }
    arm(s, Instant.MIN);
  }

  /**
   * After a pass looked at a node under verification and left it so: arms its next timer after
   * {@code now} (its soak's end, else its deadline), as popping the last one forgot it.
   */
  void rearm(GateStatus s, Instant now) {
    if (s != null && s.getState() == GateState.GATE_STATE_VERIFYING) {
      arm(s, now);
    }
  }

  /** Arms the earliest of the soak's end and the deadline that is after {@code after}. */
  private void arm(GateStatus s, Instant after) {
    Instant deadline = ProtoTime.instant(s.getVerification().getDeadline());
    Instant soakEnd = s.getVerification().hasHealthySince()
        ? ProtoTime.instant(s.getVerification().getHealthySince()).plus(soak) : null;
    Instant next = soakEnd != null && soakEnd.isAfter(after) && soakEnd.isBefore(deadline) ? soakEnd : deadline;
    if (next.isAfter(after)) {
      timers.atOrBefore(s.getNodeId(), next);
    }
  }
}
