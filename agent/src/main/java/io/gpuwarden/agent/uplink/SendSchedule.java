package io.gpuwarden.agent.uplink;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * When the batches waiting in the spool go to the collector: an urgent batch (an event, a check
 * whose state changed) at once; the others once the send interval has passed since the last send.
 * The interval is capped at half the collector's stale-after, so grouping never makes a node look
 * stale. A cycle that runs a little early still sends: half a sample interval of slack.
 *
 * <p>Not thread-safe: the sampling loop asks.
 */
public final class SendSchedule {
  private final long intervalNanos;
  private final long sampleNanos;
  private long lastSendNanos;
  private boolean sentOnce;

  /**
   * Creates a schedule.
   *
   * @param interval the configured send interval; zero sends every batch
   * @param sampleInterval how often batches are made
   */
  public SendSchedule(Duration interval, Duration sampleInterval) {
    this.intervalNanos = requireNonNull(interval, "interval").toNanos();
    this.sampleNanos = requireNonNull(sampleInterval, "sampleInterval").toNanos();
  }

  /**
   * Returns whether the batch made at {@code nowNanos} (a {@link System#nanoTime()} reading) is to
   * be sent now with everything waiting before it, and if so counts it as the last send.
   *
   * @param urgent the batch must not wait
   * @param collectorStaleAfter the collector's stale-after, when it said
   */
  public boolean due(long nowNanos, boolean urgent, Optional<Duration> collectorStaleAfter) {
    long interval = effectiveIntervalNanos(collectorStaleAfter);
    boolean due = urgent || !sentOnce || interval <= sampleNanos
        || nowNanos - lastSendNanos >= interval - sampleNanos / 2;
    if (due) {
      sentOnce = true;
      lastSendNanos = nowNanos;
    }
    return due;
  }

  /** Returns the interval in use: the configured one, at most half the collector's stale-after. */
  public Duration effectiveInterval(Optional<Duration> collectorStaleAfter) {
    return Duration.ofNanos(effectiveIntervalNanos(collectorStaleAfter));
  }

  private long effectiveIntervalNanos(Optional<Duration> collectorStaleAfter) {
    return collectorStaleAfter.filter(d -> !d.isZero() && !d.isNegative())
        .map(d -> Math.min(intervalNanos, d.toNanos() / 2)).orElse(intervalNanos);
  }
}
