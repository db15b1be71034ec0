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
 * old generation to collect. A caller that reads the same counters every cycle can keep each
 * counter's handle ({@link #counter(String)}) and skip building its key and looking it up.
 *
 * <p>Not thread-safe: owned by one check.
 */
public final class CounterRate {
  private final long windowNanos;
  private final long minSpanNanos;
  private final Map<String, Counter> series = new HashMap<>();

  /** Creates a rate tracker over {@code window}, answering once {@code minSpan} is covered. */
  public CounterRate(Duration window, Duration minSpan) {
    this.windowNanos = window.toNanos();
    this.minSpanNanos = minSpan.toNanos();
  }

  /** Adds a reading of counter {@code key} and returns its rate per second over the window. */
  public OptionalDouble add(String key, Instant time, long value) {
    return counter(key).add(time, value);
  }

  /** Returns counter {@code key}, created on first use; its readings are the ones {@link #add} takes for the key. */
  public Counter counter(String key) {
    return series.computeIfAbsent(key, k -> new Counter());
  }

  /** One counter's readings, oldest first, in a ring that grows when full. */
  public final class Counter {
    private long[] times = new long[16];
    private long[] values = new long[16];
    private int head;
    private int size;

    private Counter() {}

    /** Adds a reading and returns the counter's rate per second over the window. */
    public OptionalDouble add(Instant time, long value) {
      long t = time.getEpochSecond() * 1_000_000_000L + time.getNano();
      if (size > 0 && value < lastValue()) {
        clear();
      }
      add(t, value);
      while (size > 2 && firstTime() < t - windowNanos) {
        removeFirst();
      }
      long span = t - firstTime();
      if (span < minSpanNanos || span == 0) {
        return OptionalDouble.empty();
      }
      return OptionalDouble.of((value - firstValue()) / ((span / 1_000_000) / 1000.0));
    }

    private void add(long time, long value) {
      if (size == times.length) {
        grow();
      }
      int i = (head + size) % times.length;
      times[i] = time;
      values[i] = value;
      size++;
    }

    private void removeFirst() {
      head = (head + 1) % times.length;
      size--;
    }

    private void clear() {
      head = 0;
      size = 0;
    }

    private long firstTime() {
      return times[head];
    }

    private long firstValue() {
      return values[head];
    }

    private long lastValue() {
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
