package io.gpuwarden.agent.check;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Per-second rates of monotonically increasing counters over a sliding window. A counter that
 * goes down (driver reload, GPU reset) starts over instead of producing a negative rate. No rate is
 * given until the window holds at least {@code minSpan} of history, so one early pair of samples
 * cannot fake a burst.
 *
 * <p>Each counter's readings sit in a ring of primitive times and values, so a reading a second
 * per counter (288 of them for 8 GPUs with 18 NVLinks) allocates nothing and leaves nothing for the
 * old generation to collect.
 *
 * <p>Not thread-safe: owned by one check.
 */
public final class CounterRate {
  private final long windowNanos;
  private final long minSpanNanos;
  private final Map<String, Series> series = new HashMap<>();

  /** Creates a rate tracker over {@code window}, answering once {@code minSpan} is covered. */
  public CounterRate(Duration window, Duration minSpan) {
    this.windowNanos = window.toNanos();
    this.minSpanNanos = minSpan.toNanos();
  }

  /** Adds a reading of counter {@code key} and returns its rate per second over the window. */
  public OptionalDouble add(String key, Instant time, long value) {
    long t = time.getEpochSecond() * 1_000_000_000L + time.getNano();
    Series d = series.computeIfAbsent(key, k -> new Series());
    if (d.size > 0 && value < d.lastValue()) {
      d.clear();
    }
    d.add(t, value);
    while (d.size > 2 && d.firstTime() < t - windowNanos) {
      d.removeFirst();
    }
    long span = t - d.firstTime();
    if (span < minSpanNanos || span == 0) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of((value - d.firstValue()) / ((span / 1_000_000) / 1000.0));
  }

  /** Readings of one counter, oldest first, in a ring that grows when full. */
  private static final class Series {
    private long[] times = new long[16];
    private long[] values = new long[16];
    private int head;
    private int size;

    void add(long time, long value) {
      if (size == times.length) {
        grow();
      }
      int i = (head + size) % times.length;
      times[i] = time;
      values[i] = value;
      size++;
    }

    void removeFirst() {
      head = (head + 1) % times.length;
      size--;
    }

    void clear() {
      head = 0;
      size = 0;
    }

    long firstTime() {
      return times[head];
    }

    long firstValue() {
      return values[head];
    }

    long lastValue() {
      return values[(head + size - 1) % values.length];
    }

    private void grow() {
      long[] t = new long[times.length * 2];
      long[] v = new long[values.length * 2];
      for (int k = 0; k < size; k++) {
        t[k] = times[(head + k) % times.length];
        v[k] = values[(head + k) % values.length];
      }
      times = t;
      values = v;
      head = 0;
    }
  }
}
