package io.gpuwarden.agent.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class CounterRateTest {
  private static final Instant T0 = Instant.parse("2026-11-30T10:00:00.000123456Z");
  private final CounterRate rate = new CounterRate(Duration.ofMinutes(1), Duration.ofSeconds(10));

  private OptionalDouble at(int second, long value) {
    return rate.add("k", T0.plusSeconds(second), value);
  }

  @Test
  void noRateUntilTheMinimumSpanIsCovered() {
    assertThat(at(0, 0)).isEmpty();
    assertThat(at(9, 900)).as("a 9 s span is too short").isEmpty();
    assertThat(at(10, 1000)).hasValue(100.0);
  }

  @Test
  void theRateIsOverTheWindowOnlyEvenAfterManyReadings() {
    // 200 readings a second apart: more than the ring's first size, and the window drops the old ones.
    for (int s = 0; s < 200; s++) {
      at(s, s < 100 ? 0 : (s - 99) * 6L);
    }
    // At 199 the window starts at 139 (value 240); the value is 600: 360 over 60 s.
    assertThat(at(199, 600)).hasValue(360.0 / 60);
    assertThat(rate.add("other", T0, 5)).as("each key apart").isEmpty();
  }

  @Test
  void aCounterThatGoesDownStartsOver() {
    at(0, 50);
    assertThat(at(20, 250)).hasValue(10.0);
    assertThat(at(21, 3)).as("reset: no negative rate, and history starts again").isEmpty();
    assertThat(at(31, 13)).hasValue(1.0);
  }

  @Test
  void aSparseSeriesKeepsTwoReadingsPastTheWindow() {
    at(0, 0);
    assertThat(at(600, 600)).as("only two readings, ten minutes apart: both kept").hasValue(1.0);
    assertThat(at(601, 700)).as("the oldest goes once a third is there, leaving a 1 s span").isEmpty();
    assertThat(at(611, 800)).hasValue(200.0 / 11);
  }

  @Test
  void aReadingAtTheSameInstantOrEarlierGivesNoRate() {
    at(0, 0);
    assertThat(at(0, 10)).isEmpty();
  }

  @Test
  void aCounterHandleSharesTheReadingsOfItsKey() {
    CounterRate r = new CounterRate(Duration.ofMinutes(1), Duration.ofSeconds(10));
    Instant t0 = Instant.parse("2026-11-30T00:00:00Z");
    CounterRate.Counter handle = r.counter("gpu-0/3/crc");
    assertThat(handle.add(t0, 100)).isEmpty();
    assertThat(r.add("gpu-0/3/crc", t0.plusSeconds(10), 300)).hasValue(20.0);
    assertThat(handle.add(t0.plusSeconds(20), 500)).hasValue(20.0);
    assertThat(r.counter("gpu-0/3/crc")).isSameAs(handle);
    assertThat(r.counter("gpu-0/3/rr")).isNotSameAs(handle);
  }
}
