package io.gpuwarden.collector.verdict;

import java.util.Arrays;

/**
 * Points (a GPU's average load and average value of one metric), sorted by the load, with prefix
 * sums of the load, the value, their squares and their product: the sums a least-squares line
 * needs over any load window, in two binary searches.
 *
 * <p>Loads are kept at float precision ({@link #rounded}: seven significant digits, far finer than
 * any load window) so that the points sort as primitive keys, without boxing: remaking the index of
 * a pool of 80,000 GPUs costs milliseconds, not a tenth of a second.
 */
final class PeerIndex {
  /** Count, sum of loads, of squared loads, of values, of squared values, of load times value. */
  static final int SUMS = 6;
  final double[] loads;
  /** {@code prefix[i * SUMS + s]}: sum {@code s} over the first {@code i} points in load order. */
  final double[] prefix;

  /**
   * Indexes the first {@code n} points ({@code pointLoads[i]}, {@code pointValues[i]}); the loads
   * must already be {@link #rounded}.
   */
  PeerIndex(double[] pointLoads, double[] pointValues, int n) {
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      keys[i] = ((long) sortable((float) pointLoads[i]) << 32) | i;
    }
    Arrays.sort(keys);
    loads = new double[n];
    prefix = new double[(n + 1) * SUMS];
    for (int k = 0; k < n; k++) {
      int i = (int) keys[k]; // the low 32 bits: the point's position
      double x = pointLoads[i];
      double y = pointValues[i];
      loads[k] = x;
      int from = k * SUMS;
      int to = from + SUMS;
      prefix[to] = prefix[from] + 1;
      prefix[to + 1] = prefix[from + 1] + x;
      prefix[to + 2] = prefix[from + 2] + x * x;
      prefix[to + 3] = prefix[from + 3] + y;
      prefix[to + 4] = prefix[from + 4] + y * y;
      prefix[to + 5] = prefix[from + 5] + x * y;
    }
  }

  /** The load as the index keeps it: at float precision. */
  static double rounded(double load) {
    return (float) load;
  }

  /** The float's bits as an int that orders like the float (negative values too). */
  private static int sortable(float f) {
    int bits = Float.floatToIntBits(f);
    return bits ^ ((bits >> 31) & 0x7fffffff);
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

  /** Returns the sums over the points whose load is in [lo, hi]. */
  double[] window(double lo, double hi) {
    int from = search(lo, false);
    int to = search(hi, true);
    double[] w = new double[SUMS];
    if (to > from) {
      for (int s = 0; s < SUMS; s++) {
        w[s] = prefix[to * SUMS + s] - prefix[from * SUMS + s];
      }
    }
    return w;
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
