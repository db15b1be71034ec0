package io.gpuwarden.collector.verdict;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Settings of the {@link StragglerDetector}.
 *
 * <p>Example: {@code new StragglerConfig(3.0, 8, 80, Duration.ofSeconds(60), Duration.ofMinutes(5))}.
 *
 * @param k how many standard deviations from its peers a GPU may be before it is flagged
 * @param minPeers fewest GPUs under load in a pool (the judged GPU included) before anything is judged
 * @param loadThresholdPercent GPU utilisation, in percent, from which a sample counts as "under load"
 * @param halfLife half-life of the per-GPU exponentially weighted moving averages
 * @param staleAfter how long a GPU's average is kept without an update under load
 */
public record StragglerConfig(double k, int minPeers, int loadThresholdPercent, Duration halfLife,
    Duration staleAfter) {
  /** Default {@link #k()}. */
  public static final double DEFAULT_K = 3.0;
  /** Default {@link #minPeers()}. */
  public static final int DEFAULT_MIN_PEERS = 8;
  /** Default {@link #loadThresholdPercent()}. */
  public static final int DEFAULT_LOAD_THRESHOLD_PERCENT = 80;
  /** Default {@link #halfLife()}. */
  public static final Duration DEFAULT_HALF_LIFE = Duration.ofSeconds(60);
  /** Default {@link #staleAfter()}. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofMinutes(5);

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
  }

  /** Returns k = 3, 8 peers, 80 % load, 60 s half-life, forgotten after 5 minutes. */
  public static StragglerConfig defaults() {
    return new StragglerConfig(DEFAULT_K, DEFAULT_MIN_PEERS, DEFAULT_LOAD_THRESHOLD_PERCENT, DEFAULT_HALF_LIFE,
        DEFAULT_STALE_AFTER);
  }
}
