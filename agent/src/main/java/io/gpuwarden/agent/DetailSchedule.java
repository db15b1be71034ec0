package io.gpuwarden.agent;

import java.time.Duration;
import java.time.Instant;

/**
 * Says which sampling cycles also take the detail readings (see {@link AgentConfig#detailInterval()}):
 * the first, and then each one at least the detail interval after the last that did. A zero
 * interval makes every cycle a detail cycle.
 *
 * <p>Not thread-safe: one sampling thread asks.
 */
final class DetailSchedule {
  private final Duration interval;
  private Instant next = Instant.MIN;

  DetailSchedule(Duration interval) {
    this.interval = interval;
  }

  /** Returns whether the cycle at {@code now} takes the detail readings, and if so starts the next wait. */
  boolean due(Instant now) {
    if (now.isBefore(next)) {
      return false;
    }
    next = now.plus(interval);
    return true;
  }
}
