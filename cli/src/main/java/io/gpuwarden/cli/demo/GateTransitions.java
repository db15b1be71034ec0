package io.gpuwarden.cli.demo;

import io.gpuwarden.cli.Times;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.collector.ingest.IngestJournal;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HistoryEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Collects the gate's state changes as they happen and turns them into one line each, e.g.
 * {@code 2026-11-30T05:12:33Z demo-node-03 VERIFYING -> SERVING (verification passed: ...)}.
 *
 * <p>The listener only queues (it runs on the gate's thread and must not block); {@link #drain}
 * runs on the demo's loop and reads each change's reason from the node's history.
 */
final class GateTransitions implements ReleaseGate.GateListener {
  /** How many of a node's newest history entries are searched for a transition's reason. */
  private static final int HISTORY_LOOKBACK = 50;

  /** One state change of one node; {@code since} is when the gate made it. */
  record Change(String nodeId, GateState from, GateState to, Instant since) {}

  private final Map<String, GateState> last = new ConcurrentHashMap<>();
  private final Queue<Change> changes = new ConcurrentLinkedQueue<>();

  @Override
  public void changed(GateStatus status, boolean previouslyAllocatable) {
    GateState before = last.put(status.getNodeId(), status.getState());
    // A node's first status (the gate just met it) is not a change; allocatable flips are in the table.
    if (before != null && before != status.getState()) {
      changes.add(new Change(status.getNodeId(), before, status.getState(),
          Instant.ofEpochSecond(status.getSince().getSeconds(), status.getSince().getNanos())));
    }
  }

  /** Returns a line for each change since the last call, oldest first, with its reason from the nodes' history. */
  List<String> drain(IngestJournal journal, Times times) {
    List<String> lines = new ArrayList<>();
    for (Change c : take()) {
      // The history is stored in milliseconds; look a second back so the entry at `since` is included.
      List<HistoryEntry> history = journal.history(c.nodeId(), c.since().minusSeconds(1), HISTORY_LOOKBACK);
      lines.add(line(c, reason(history, c.to()), times));
    }
    return lines;
  }

  /** Returns and forgets the changes queued so far, oldest first. */
  List<Change> take() {
    List<Change> taken = new ArrayList<>();
    Change c;
    while ((c = changes.poll()) != null) {
      taken.add(c);
    }
    return taken;
  }

  /** Formats one change: {@code 2026-11-30T05:12:33Z demo-node-03 VERIFYING -> SERVING (reason)}. */
  static String line(Change c, String reason, Times times) {
    return times.format(c.since()) + " " + c.nodeId() + " "
        + DemoGateTable.state(c.from()) + " -> " + DemoGateTable.state(c.to()) + (reason.isEmpty() ? "" : " (" + reason + ")");
  }

  /** Returns the reason of the newest transition into {@code to} in {@code history} (oldest first), with its actor; empty if none. */
  static String reason(List<HistoryEntry> history, GateState to) {
    for (int i = history.size() - 1; i >= 0; i--) {
      HistoryEntry e = history.get(i);
      if (e.hasTransition() && e.getTransition().getToState() == to) {
        GateTransition t = e.getTransition();
        return t.getReason() + (t.getActor().isEmpty() ? "" : ", by " + t.getActor());
      }
    }
    return "";
  }
}
