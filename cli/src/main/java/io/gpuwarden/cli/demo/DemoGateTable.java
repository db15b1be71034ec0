package io.gpuwarden.cli.demo;

import io.gpuwarden.cli.TextTable;
import io.gpuwarden.cli.gate.GateTable;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The demo's view of the release gate, printed under the fleet table: a budget line per pool and
 * one row per node (NODE, GATE, ALLOCATABLE, DETAIL), the detail as {@code gpuwarden gate} shows it:
 * the lock reason, what verification still waits for, the quarantine reason.
 */
final class DemoGateTable {
  private DemoGateTable() {}

  /** Renders {@code budgets}, one line each, then {@code statuses} sorted by node id. */
  static String render(List<Budget> budgets, List<GateStatus> statuses) {
    StringBuilder out = new StringBuilder();
    for (Budget b : budgets) {
      out.append(budgetLine(b)).append('\n');
    }
    TextTable t = new TextTable("NODE", "GATE", "ALLOCATABLE", "DETAIL");
    statuses.stream().sorted(Comparator.comparing(GateStatus::getNodeId)).forEach(s -> t.row(
        s.getNodeId(), state(s.getState()), s.getAllocatable() ? "yes" : "no", GateTable.detail(s)));
    return out.append(t.render()).toString();
  }

  /** E.g. {@code pool demo: 2 of 8 nodes out of service, budget 25% (0 more may be taken)}. */
  static String budgetLine(Budget b) {
    String limit = b.getMaxPercentOut() > 0 ? trim(b.getMaxPercentOut()) + "%" : "";
    if (b.getMaxNodesOut() > 0) {
      limit = limit.isEmpty() ? b.getMaxNodesOut() + " nodes" : limit + " and at most " + b.getMaxNodesOut() + " nodes";
    }
    return String.format(Locale.ROOT, "pool %s: %d of %d nodes out of service, budget %s (%d more may be taken)%s",
        b.getPool(), b.getNodesOut(), b.getNodesTotal(), limit.isEmpty() ? "unlimited" : limit, b.getNodesAvailableToTake(),
        b.getCircuitBreakerOpen() ? ", circuit breaker OPEN" : "");
  }

  /** Returns the state without its prefix, e.g. {@code VERIFYING}. */
  static String state(GateState s) {
    return s.name().replace("GATE_STATE_", "");
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : String.format(Locale.ROOT, "%.1f", d);
  }
}
