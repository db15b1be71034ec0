package io.gpuwarden.cli.loadgen;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latencies in microseconds, counted in log-linear buckets (16 per power of two: a quantile is
 * within 1/16 of the true value above 16 µs, exact below), from any number of threads without
 * locks. Values above about 70 minutes count in the last bucket.
 */
final class LatencyHistogram {
  private static final int SUB_BITS = 4;
  private static final int SUB = 1 << SUB_BITS;
  private static final int MAX_POWER = 32;
  private final AtomicLongArray counts = new AtomicLongArray((MAX_POWER + 1) * SUB);
  private final java.util.concurrent.atomic.AtomicLong max = new java.util.concurrent.atomic.AtomicLong();

  /** Counts one latency of {@code micros} µs (negative counts as 0). */
  void record(long micros) {
    long v = Math.max(0, micros);
    counts.incrementAndGet(bucket(v));
    max.accumulateAndGet(v, Math::max);
  }

  /** Returns the number of latencies counted. */
  long count() {
    long n = 0;
    for (int i = 0; i < counts.length(); i++) {
      n += counts.get(i);
    }
    return n;
  }

  /** Returns the largest latency counted, µs (0 when none). */
  long max() {
    return max.get();
  }

  /**
   * Returns the latency at quantile {@code q} (0..1), µs: the upper bound of the bucket holding it
   * (never more than {@link #max()}); 0 when nothing was counted.
   */
  long quantile(double q) {
    long total = count();
    if (total == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(q * total));
    long seen = 0;
    for (int i = 0; i < counts.length(); i++) {
      seen += counts.get(i);
      if (seen >= rank) {
        return Math.min(upperBound(i), max.get());
      }
    }
    return max.get();
  }

  /** Adds every count of {@code other} to this one. */
  void add(LatencyHistogram other) {
    for (int i = 0; i < counts.length(); i++) {
      long c = other.counts.get(i);
      if (c != 0) {
        counts.addAndGet(i, c);
      }
    }
    max.accumulateAndGet(other.max.get(), Math::max);
  }

  static int bucket(long v) {
    if (v < SUB) {
      return (int) v;
    }
    int power = 63 - Long.numberOfLeadingZeros(v); // >= SUB_BITS
    if (power > MAX_POWER) {
      return counts(MAX_POWER) - 1;
    }
    int sub = (int) (v >>> (power - SUB_BITS)) & (SUB - 1);
    return (power - SUB_BITS + 1) * SUB + sub;
  }

  private static int counts(int power) {
    return (power - SUB_BITS + 2) * SUB;
  }

  /** Returns the largest value that falls in bucket {@code i}. */
  static long upperBound(int i) {
    if (i < SUB) {
      return i;
    }
    int power = i / SUB - 1 + SUB_BITS;
    long sub = i % SUB;
    return ((SUB + sub + 1) << (power - SUB_BITS)) - 1;
  }
}
