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
   * Returns the limit as set: {@code 5% (5 nodes)} for a percentage (with what it comes to in this pool, rounded
   * down), {@code 3 nodes} for an absolute limit, both joined by {@code ", max "} when both are set, and
   * {@code none} when neither is.
   */
  static String limit(Budget b) {
    String absolute = b.getMaxNodesOut() == 0 ? "" : nodes(Integer.toUnsignedLong(b.getMaxNodesOut()));
    if (b.getMaxPercentOut() <= 0) {
      return absolute.isEmpty() ? "none" : absolute;
    }
    long fromPercent = (long) Math.floor(b.getMaxPercentOut() * Integer.toUnsignedLong(b.getNodesTotal()) / 100.0 + 1e-9);
    String percent = percent(b.getMaxPercentOut()) + " (" + nodes(fromPercent) + ")";
    return absolute.isEmpty() ? percent : percent + ", max " + absolute;
  }

  /** {@code 5%}, {@code 2.5%}. */
  static String percent(double p) {
    return BigDecimal.valueOf(p).stripTrailingZeros().toPlainString() + "%";
  }

  private static String nodes(long n) {
    return n + (n == 1 ? " node" : " nodes");
  }
}
