package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The nodes whose queued lock {@code lock --wait --wait-timeout} is still waiting to see granted. */
final class QueuedLockWatch {
  private final Set<String> waiting;

  QueuedLockWatch(Collection<String> queued) {
    this.waiting = new TreeSet<>(queued);
  }

  /** Takes a status from WatchGate; returns true when it shows a waiting node LOCKED, which then stops waiting. */
  boolean granted(GateStatus status) {
    return status.getState() == GateState.GATE_STATE_LOCKED && waiting.remove(status.getNodeId());
  }

  /** Returns true when every queued lock has been granted. */
  boolean done() {
    return waiting.isEmpty();
  }

  /** Returns the nodes still queued, sorted. */
  List<String> waiting() {
    return List.copyOf(waiting);
  }

  /** Says which locks were still queued when the wait ended. */
  String stillQueued() {
    return "still queued: " + String.join(", ", waiting)
        + " (this command does not cancel them; see 'gpuwarden gate' and 'gpuwarden budget')";
  }
}
