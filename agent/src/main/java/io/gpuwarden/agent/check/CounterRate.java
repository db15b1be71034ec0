package io.gpuwarden.agent.check;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Per-second rates of monotonically increasing counters over a sliding window. A counter that
 * goes down (driver reload, GPU reset) starts over instead of producing a negative rate. No rate is
 * given until the window holds at least {@code minSpan} of history, so one early pair of samples
 * cannot fake a burst.
 *
 * <p>Not thread-safe: owned by one check.
 */
public final class CounterRate {
  private final Duration window;
  private final Duration minSpan;
  private final Map<String, Deque<Point>> series = new HashMap<>();

  private record Point(Instant time, long value) {}

  /** Creates a rate tracker over {@code window}, answering once {@code minSpan} is covered. */
  public CounterRate(Duration window, Duration minSpan) {
    this.window = window;
    this.minSpan = minSpan;
  }

  /** Adds a reading of counter {@code key} and returns its rate per second over the window. */
  public OptionalDouble add(String key, Instant time, long value) {
    Deque<Point> d = series.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (!d.isEmpty() && value < d.peekLast().value()) {
      d.clear();
    }
    d.addLast(new Point(time, value));
    while (d.size() > 2 && d.peekFirst().time().isBefore(time.minus(window))) {
      d.removeFirst();
    }
    Point first = d.peekFirst();
    Duration span = Duration.between(first.time(), time);
    if (span.compareTo(minSpan) < 0 || span.isZero()) {
      return OptionalDouble.empty();
    }
    return OptionalDouble.of((value - first.value()) / (span.toMillis() / 1000.0));
  }
}
