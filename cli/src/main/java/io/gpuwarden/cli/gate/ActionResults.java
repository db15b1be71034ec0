package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.util.List;

/**
 * Prints the per-node results of a gate mutation, one line each ({@code gpu-001  REFUSED  pool h100-a budget 2 of 2 out}),
 * and turns them into the command's exit code.
 */
final class ActionResults {
  private ActionResults() {}

  /** Renders one aligned line per result, in the order given; times in messages as {@code times} shows them. */
  static String render(List<NodeActionResult> results, Times times) {
    int nodeWidth = results.stream().mapToInt(r -> r.getNodeId().length()).max().orElse(0);
    int outcomeWidth = results.stream().mapToInt(r -> GateFormat.outcome(r.getOutcome()).length()).max().orElse(0);
    StringBuilder s = new StringBuilder();
    for (NodeActionResult r : results) {
      String outcome = GateFormat.outcome(r.getOutcome());
      String line = pad(r.getNodeId(), nodeWidth) + "  " + pad(outcome, outcomeWidth) + "  " + times.annotate(note(r));
      s.append(line.stripTrailing()).append('\n');
    }
    return s.toString();
  }

  /** Returns the server's message, or the state the node is now in when there is none. */
  static String note(NodeActionResult r) {
    if (!r.getMessage().isEmpty()) {
      return r.getMessage();
    }
    return r.hasStatus() ? "now " + GateFormat.state(r.getStatus().getState()) : "";
  }

  /**
   * Returns {@link ExitCodes#NOT_FOUND} when the gate never saw a node, {@link ExitCodes#REFUSED} when any node was refused, {@link ExitCodes#CALL_FAILED} when the collector
   * answered without a result or with an outcome this client does not know, else {@link ExitCodes#OK} (applied or queued).
   */
  static int exitCode(List<NodeActionResult> results) {
    if (results.stream().anyMatch(r -> r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND)) {
      return ExitCodes.NOT_FOUND;
    }
    if (results.stream().anyMatch(r -> r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED)) {
      return ExitCodes.REFUSED;
    }
    boolean understood = !results.isEmpty() && results.stream().allMatch(r ->
        r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED
            || r.getOutcome() == NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED);
    return understood ? ExitCodes.OK : ExitCodes.CALL_FAILED;
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(width - s.length());
  }
}
