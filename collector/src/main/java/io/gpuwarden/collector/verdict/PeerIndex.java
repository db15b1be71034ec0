package io.gpuwarden.collector.verdict;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Points (a GPU's average load and average value of one metric), sorted by the load, with prefix
 * sums of the load, the value, their squares and their product: the sums a least-squares line
 * needs over any load window, in two binary searches.
 *
 * @param <K> what each point belongs to (a GPU), compared by identity
 */
final class PeerIndex<K> {
  /** Count, sum of loads, of squared loads, of values, of squared values, of load times value. */
  private static final int SUMS = 6;
  final double[] loads;
  /** {@code prefix[i * SUMS + s]}: sum {@code s} over the first {@code i} GPUs in load order. */
  final double[] prefix;
  /** What each owner contributed: its load and value when the index was made. */
  final Map<K, double[]> contributed = new IdentityHashMap<>();

  /** Indexes {@code points}: owner to {load, value}. */
  PeerIndex(Map<K, double[]> owned) {
    List<double[]> points = new ArrayList<>(owned.values());
    contributed.putAll(owned);
    points.sort(Comparator.comparingDouble(p -> p[0]));
    loads = new double[points.size()];
    prefix = new double[(points.size() + 1) * SUMS];
    for (int i = 0; i < points.size(); i++) {
      double[] p = points.get(i);
      loads[i] = p[0];
      System.arraycopy(prefix, i * SUMS, prefix, (i + 1) * SUMS, SUMS);
      double[] row = new double[SUMS];
      add(row, p[0], p[1], 1);
      for (int s = 0; s < SUMS; s++) {
        prefix[(i + 1) * SUMS + s] += row[s];
      }
    }
  }

  /** Adds {@code sign} times the point (x, y) to sums {@code w}. */
  static void add(double[] w, double x, double y, int sign) {
    w[0] += sign;
    w[1] += sign * x;
    w[2] += sign * x * x;
    w[3] += sign * y;
    w[4] += sign * y * y;
    w[5] += sign * x * y;
  }

  /** Returns the sums over the GPUs whose load is in [lo, hi]. */
  double[] window(double lo, double hi) {
    int from = firstAtLeast(lo);
    int to = firstAbove(hi);
    double[] w = new double[SUMS];
    if (to > from) {
      for (int s = 0; s < SUMS; s++) {
        w[s] = prefix[to * SUMS + s] - prefix[from * SUMS + s];
      }
    }
    return w;
  }

  private int firstAtLeast(double x) {
    return search(x, false);
  }

  private int firstAbove(double x) {
    return search(x, true);
  }

  /** Returns the first index whose load is at least {@code x} (above it when {@code strict}). */
  private int search(double x, boolean strict) {
    int lo = 0;
    int hi = loads.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (strict ? loads[mid] <= x : loads[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
