package io.gpuwarden.collector.gate;

import io.gpuwarden.proto.v1.Budget;
import java.util.Locale;

/**
 * How many of a pool's nodes may be out of service at once, from a {@link Budget}'s limits (or the
 * gate's defaults): the smaller of {@code max_nodes_out} and {@code max_percent_out} of the pool,
 * where a percent limit always allows at least one node so a small pool can still be maintained.
 * Zero for both means no limit.
 */
final class PoolBudget {
  private PoolBudget() {}

  /** Returns how many nodes of a pool of {@code total} may be out. */
  static int limit(Budget budget, int total) {
    int limit = Integer.MAX_VALUE;
    if (budget.getMaxNodesOut() > 0) {
      limit = budget.getMaxNodesOut();
    }
    if (budget.getMaxPercentOut() > 0) {
      limit = Math.min(limit, Math.max(1, (int) Math.floor(budget.getMaxPercentOut() * total / 100.0 + 1e-9)));
    }
    return limit == Integer.MAX_VALUE ? total : limit;
  }

  /** Describes the limit for messages: {@code "5 (5% of 100 nodes)"}. */
  static String describe(Budget budget, int total) {
    int limit = limit(budget, total);
    StringBuilder s = new StringBuilder().append(limit);
    if (budget.getMaxPercentOut() > 0 && (budget.getMaxNodesOut() == 0 || limit < budget.getMaxNodesOut())) {
      s.append(String.format(Locale.ROOT, " (%s%% of %d nodes)", trim(budget.getMaxPercentOut()), total));
    } else if (budget.getMaxNodesOut() > 0) {
      s.append(" (max nodes out)");
    } else {
      s.append(" (no limit)");
    }
    return s.toString();
  }

  private static String trim(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
