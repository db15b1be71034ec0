package io.gpuwarden.collector.gate;

import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;

/** The per-node answers of gate commands. */
final class NodeResults {
  private NodeResults() {}

  /** The gate never saw the node. */
  static NodeActionResult notFound(String id) {
    return of(id, NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND, "no such node: the gate has never seen it (check the node id)",
        null);
  }

  /** A result with the node's status (when there is one). */
  static NodeActionResult of(String id, NodeActionOutcome outcome, String message, GateStatus s) {
    NodeActionResult.Builder b = NodeActionResult.newBuilder().setNodeId(id).setOutcome(outcome).setMessage(message);
    if (s != null) {
      b.setStatus(s);
    }
    return b.build();
  }
}
