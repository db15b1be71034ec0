package io.gpuwarden.collector.gate;

import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * How many nodes each pool has, and how many of them are out of service (not SERVING, or held):
 * kept up to date as statuses change, so that a budget decision costs O(1) instead of a count over
 * the fleet. A pass that changes several nodes works on a {@link #copy()}.
 *
 * <p>Not thread-safe: the gate serialises every use.
 */
final class PoolCounts {
  private final Map<String, int[]> counts = new HashMap<>();

  /** Counts every status of {@code statuses}. */
  static PoolCounts of(Iterable<GateStatus> statuses) {
    PoolCounts c = new PoolCounts();
    for (GateStatus s : statuses) {
      c.change(null, s);
    }
    return c;
  }

  /** Returns a copy to change without changing this one. */
  PoolCounts copy() {
    PoolCounts c = new PoolCounts();
    counts.forEach((pool, v) -> c.counts.put(pool, v.clone()));
    return c;
  }

  /** Accounts for a node's status changing from {@code before} (null: new node) to {@code after}. */
  void change(GateStatus before, GateStatus after) {
    if (before != null) {
      int[] v = counts.computeIfAbsent(before.getPool(), p -> new int[2]);
      v[0]--;
      v[1] -= out(before) ? 1 : 0;
    }
    int[] v = counts.computeIfAbsent(after.getPool(), p -> new int[2]);
    v[0]++;
    v[1] += out(after) ? 1 : 0;
  }

  /** Returns how many nodes {@code pool} has. */
  int total(String pool) {
    int[] v = counts.get(pool);
    return v == null ? 0 : v[0];
  }

  /** Returns how many nodes of {@code pool} are out of service. */
  int out(String pool) {
    int[] v = counts.get(pool);
    return v == null ? 0 : v[1];
  }

  /** Whether {@code s} counts as out of service: taken for maintenance (any state but SERVING) or held. */
  static boolean out(GateStatus s) {
    return s.getState() != GateState.GATE_STATE_SERVING || s.getHeld();
  }
}
