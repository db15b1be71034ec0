package io.gpuwarden.agent.check.infiniband;

import io.gpuwarden.agent.source.infiniband.CounterDelta;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Counts how much InfiniBand counters grew within a sliding window, through {@link CounterDelta} so
 * a saturated counter yields a lower bound and a cleared one never a negative step. The first
 * reading of a counter is its baseline: what it counted before the agent watched is not recent.
 *
 * <p>Not thread-safe: owned by one check.
 */
final class IncrementWindow {
  private record Step(Instant time, long increase, boolean exact) {}

  private final Duration window;
  private final Map<String, Long> previous = new HashMap<>();
  private final Map<String, Deque<Step>> steps = new HashMap<>();

  IncrementWindow(Duration window) {
    this.window = window;
  }

  /** The growth within the window: {@code exact} false when some step was only a lower bound. */
  record Total(long increase, boolean exact) {}

  /**
   * Adds reading {@code value} of counter {@code counter} (its counters/ file name) under {@code key};
   * returns the step from the previous reading, empty for the first.
   */
  Optional<CounterDelta> add(String key, String counter, Instant now, long value) {
    Long before = previous.put(key, value);
    if (before == null) {
      return Optional.empty();
    }
    CounterDelta d = CounterDelta.between(counter, before, value);
    if (d.increase() > 0) {
      steps.computeIfAbsent(key, k -> new ArrayDeque<>()).addLast(new Step(now, d.increase(), d.exact()));
    }
    return Optional.of(d);
  }

  /** Returns the growth of {@code key} within the window ending at {@code now}. */
  Total total(String key, Instant now) {
    Deque<Step> d = steps.get(key);
    if (d == null) {
      return new Total(0, true);
    }
    Instant from = now.minus(window);
    while (!d.isEmpty() && !d.peekFirst().time().isAfter(from)) {
      d.removeFirst();
    }
    long sum = 0;
    boolean exact = true;
    for (Step s : d) {
      sum = sum + s.increase() < 0 ? Long.MAX_VALUE : sum + s.increase();
      exact &= s.exact();
    }
    return new Total(sum, exact);
  }
}
