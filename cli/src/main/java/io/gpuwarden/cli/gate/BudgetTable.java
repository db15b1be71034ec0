package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.TextTable;
import io.gpuwarden.proto.v1.Budget;
import java.math.BigDecimal;
import java.util.List;

/** Renders pool budgets as the {@code budget} table: POOL TOTAL OUT LIMIT AVAILABLE QUEUED REFUSED BREAKER. */
final class BudgetTable {
  private BudgetTable() {}

  /** Renders one row per budget, in the order given (the collector orders them by pool). */
  static String render(List<Budget> budgets) {
    TextTable t = new TextTable("POOL", "TOTAL", "OUT", "LIMIT", "AVAILABLE", "QUEUED", "REFUSED", "BREAKER")
        .rightAlign(1, 2, 4, 5, 6);
    for (Budget b : budgets) {
      t.row(b.getPool(),
          Integer.toUnsignedString(b.getNodesTotal()),
          Integer.toUnsignedString(b.getNodesOut()),
          limit(b),
          Integer.toUnsignedString(b.getNodesAvailableToTake()),
          Integer.toUnsignedString(b.getQueuedLocks()),
          Long.toUnsignedString(b.getRefusedLocks()),
          b.getCircuitBreakerOpen() ? "TRIPPED" : "armed");
    }
    return t.render();
  }

  /**
   * Returns the limit as set, with the number of nodes the collector computes it allows now ({@code limit_nodes}):
   * {@code 5% (1 node)} for a percentage (which always allows at least one node), {@code 3 nodes} for an absolute
   * limit, {@code 10%, max 4 nodes (4 nodes)} for both (the stricter applies), {@code none} for neither.
   */
  static String limit(Budget b) {
    boolean absolute = b.getMaxNodesOut() != 0;
    boolean percent = b.getMaxPercentOut() > 0;
    String allowed = nodes(Integer.toUnsignedLong(b.getLimitNodes()));
    if (!percent) {
      return absolute ? nodes(Integer.toUnsignedLong(b.getMaxNodesOut())) : "none";
    }
    String setting = percent(b.getMaxPercentOut())
        + (absolute ? ", max " + nodes(Integer.toUnsignedLong(b.getMaxNodesOut())) : "");
    return setting + " (" + allowed + ")";
  }

  /** {@code 5%}, {@code 2.5%}. */
  static String percent(double p) {
    return BigDecimal.valueOf(p).stripTrailingZeros().toPlainString() + "%";
  }

  private static String nodes(long n) {
    return n + (n == 1 ? " node" : " nodes");
  }
}
