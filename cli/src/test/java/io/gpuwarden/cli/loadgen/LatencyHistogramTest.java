package io.gpuwarden.cli.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
  @Test
  void smallValuesAreExactAndLargeOnesWithinOneSixteenth() {
    LatencyHistogram h = new LatencyHistogram();
    for (int v = 1; v <= 100; v++) {
      h.record(v * 1_000L); // 1 ms .. 100 ms
    }
    assertThat(h.count()).isEqualTo(100);
    assertThat(h.max()).isEqualTo(100_000);
    assertThat(h.quantile(0.5)).isBetween(50_000L, 50_000L + 50_000 / 16);
    assertThat(h.quantile(0.99)).isBetween(99_000L, 99_000L + 99_000 / 16);
    assertThat(h.quantile(1.0)).isEqualTo(100_000);

    LatencyHistogram exact = new LatencyHistogram();
    exact.record(3);
    exact.record(7);
    assertThat(exact.quantile(0.5)).isEqualTo(3);
    assertThat(exact.quantile(0.51)).isEqualTo(7);
  }

  @Test
  void everyBucketHoldsTheValuesUpToItsUpperBound() {
    for (long v = 0; v < 1 << 20; v += 1 + v / 50) {
      int b = LatencyHistogram.bucket(v);
      assertThat(LatencyHistogram.upperBound(b)).isGreaterThanOrEqualTo(v);
      assertThat(b == 0 || LatencyHistogram.upperBound(b - 1) < v).as("value %d, bucket %d", v, b).isTrue();
    }
  }

  @Test
  void addingMergesCountsAndMax() {
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    a.record(10);
    b.record(5_000_000);
    b.record(-4); // counts as 0
    a.add(b);
    assertThat(a.count()).isEqualTo(3);
    assertThat(a.max()).isEqualTo(5_000_000);
    assertThat(a.quantile(0.0)).isZero();
    assertThat(new LatencyHistogram().quantile(0.99)).isZero();
  }
}
