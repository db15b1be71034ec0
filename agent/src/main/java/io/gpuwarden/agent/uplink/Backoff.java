package io.gpuwarden.agent.uplink;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter: the n-th wait is uniform in [0, min(cap, initial × 2^n)].
 * Full jitter spreads ten thousand agents reconnecting to a restarted collector over the whole
 * window instead of in synchronized waves.
 */
public final class Backoff {
  private final Duration initial;
  private final Duration cap;
  private final DoubleSupplier random;
  private int attempt;

  /** Creates a backoff; {@code random} returns values in [0, 1). */
  public Backoff(Duration initial, Duration cap, DoubleSupplier random) {
    this.initial = initial;
    this.cap = cap;
    this.random = random;
  }

  /** Returns the next wait and advances the attempt counter. */
  public Duration next() {
    double ceilingMillis = Math.min((double) cap.toMillis(), initial.toMillis() * Math.pow(2, attempt));
    if (attempt < 62) {
      attempt++;
    }
    return Duration.ofMillis((long) (random.getAsDouble() * ceilingMillis));
  }

  /** Starts over after a success. */
  public void reset() {
    attempt = 0;
  }
}
