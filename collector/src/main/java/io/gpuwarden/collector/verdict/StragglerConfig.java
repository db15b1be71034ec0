package io.gpuwarden.collector.verdict;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Settings of the {@link StragglerDetector}.
 *
 * <p>Example: {@code new StragglerConfig(3.0, 8, 80, Duration.ofSeconds(60), Duration.ofMinutes(5))}.
 *
 * @param k how many standard deviations from its peers a GPU may be before it is flagged
 * @param minPeers fewest comparable GPUs under load in a pool (the judged GPU included) before a GPU is judged
 * @param loadThresholdPercent GPU utilisation, in percent, from which a sample counts as "under load"
 * @param halfLife half-life of the per-GPU exponentially weighted moving averages
 * @param staleAfter how long a GPU's average is kept without an update under load
 * @param utilizationWindowPercent power and SM clock are compared with peers whose average utilisation is
 *     within this many percentage points of the GPU's own
 * @param powerWindowFraction temperature is compared with peers whose average power draw is within this
 *     fraction of the GPU's own (0.05: ±5 %)
 */
public record StragglerConfig(double k, int minPeers, int loadThresholdPercent, Duration halfLife,
    Duration staleAfter, double utilizationWindowPercent, double powerWindowFraction) {
  /**
   * Default {@link #k()}. Parts of one model differ: on simulated pools of 320 GPUs whose parts
   * differ by 1 °C and 1 % of power (standard deviations) at the same load, k = 3 flagged the most
   * extreme healthy part in 15 of 30 pools, k = 3.5 in 3, k = 4 in none (the tail of the largest
   * of hundreds of normal parts lies past 3), while k = 4 still caught, in all of them, a GPU
   * drawing 80 W less at the same utilisation, one 6 °C hotter at the same power and one clocking
   * 120 MHz slower (StragglerUnderVariedLoadTest).
   */
  public static final double DEFAULT_K = 4.0;
  /** Default {@link #minPeers()}. */
  public static final int DEFAULT_MIN_PEERS = 8;
  /** Default {@link #loadThresholdPercent()}. */
  public static final int DEFAULT_LOAD_THRESHOLD_PERCENT = 80;
  /** Default {@link #halfLife()}. */
  public static final Duration DEFAULT_HALF_LIFE = Duration.ofSeconds(60);
  /** Default {@link #staleAfter()}. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(5);
  /** Default {@link #utilizationWindowPercent()}. */
  public static final double DEFAULT_UTILIZATION_WINDOW_PERCENT = 5;
  /** Default {@link #powerWindowFraction()}. */
  public static final double DEFAULT_POWER_WINDOW_FRACTION = 0.05;

  /** Settings with the default comparison windows. */
  public StragglerConfig(double k, int minPeers, int loadThresholdPercent, Duration halfLife, Duration staleAfter) {
    this(k, minPeers, loadThresholdPercent, halfLife, staleAfter, DEFAULT_UTILIZATION_WINDOW_PERCENT,
        DEFAULT_POWER_WINDOW_FRACTION);
  }

  /** Validates the settings. */
  public StragglerConfig {
    requireNonNull(halfLife, "halfLife");
    requireNonNull(staleAfter, "staleAfter");
    if (!(k > 0) || !Double.isFinite(k)) {
      throw new IllegalArgumentException("k must be > 0, got " + k);
    }
    if (minPeers < 2) {
      throw new IllegalArgumentException("minPeers must be >= 2 (a GPU needs someone to compare with), got "
          + minPeers);
    }
    if (loadThresholdPercent < 0 || loadThresholdPercent > 100) {
      throw new IllegalArgumentException("loadThresholdPercent must be 0..100, got " + loadThresholdPercent);
    }
    if (halfLife.isNegative() || halfLife.isZero()) {
      throw new IllegalArgumentException("halfLife must be > 0, got " + halfLife);
    }
    if (staleAfter.isNegative() || staleAfter.isZero()) {
      throw new IllegalArgumentException("staleAfter must be > 0, got " + staleAfter);
    }
    if (!(utilizationWindowPercent > 0 && utilizationWindowPercent <= 100)) {
      throw new IllegalArgumentException("utilizationWindowPercent must be in (0, 100], got " + utilizationWindowPercent);
    }
    if (!(powerWindowFraction > 0 && powerWindowFraction < 1)) {
      throw new IllegalArgumentException("powerWindowFraction must be in (0, 1), got " + powerWindowFraction);
    }
  }

  /**
   * Returns k = 4, 8 peers, 80 % load, 60 s half-life, forgotten after 5 minutes, power and clock
   * compared within ±5 utilisation points, temperature within ±5 % of power.
   */
  public static StragglerConfig defaults() {
    return new StragglerConfig(DEFAULT_K, DEFAULT_MIN_PEERS, DEFAULT_LOAD_THRESHOLD_PERCENT, DEFAULT_HALF_LIFE,
        DEFAULT_STALE_AFTER);
  }
}
