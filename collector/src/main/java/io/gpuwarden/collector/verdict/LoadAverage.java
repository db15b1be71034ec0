package io.gpuwarden.collector.verdict;

import java.time.Duration;
import java.time.Instant;

/**
 * An exponentially weighted moving average over irregularly spaced samples, weighted by the time
 * each sample stands for: the time since the previous one, at most {@link #MAX_SAMPLE_SECONDS}.
 * A sample after a long gap (the GPU was idle, or the node away) therefore counts for a few
 * seconds, not for the whole gap, and {@link #weightSeconds} says how much recent time under load
 * the average stands for (at most the half-life / ln 2).
 */
final class LoadAverage {
  /** Most time one sample stands for, s: above the agents' sampling and send intervals. */
  static final double MAX_SAMPLE_SECONDS = 15;

  double weightedSum;
  double weightSeconds;
  Instant updated;

  double value() {
    return weightedSum / weightSeconds;
  }

  void update(double x, Instant now, Duration halfLife) {
    if (updated == null) {
      weightedSum = x; // the first sample stands for a second: what came before it is unknown
      weightSeconds = 1;
      updated = now;
      return;
    }
    // Seconds and nanoseconds apart, without a Duration per sample (this runs for every GPU of every batch).
    double elapsed = Math.max(0, (now.getEpochSecond() - updated.getEpochSecond())
        + (now.getNano() - updated.getNano()) / 1e9);
    // After one half-life the old samples count half, whatever the sampling period.
    double decay = Math.pow(0.5, elapsed / (halfLife.toNanos() / 1e9));
    double stands = Math.min(elapsed, MAX_SAMPLE_SECONDS);
    weightedSum = weightedSum * decay + x * stands;
    weightSeconds = weightSeconds * decay + stands;
    if (now.isAfter(updated)) {
      updated = now;
    }
  }
}
