package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class DetailScheduleTest {
  private static final Instant T0 = Instant.parse("2026-11-30T08:00:00Z");

  @Test
  void theFirstCycleAndThenOneEveryIntervalAreDetailCycles() {
    DetailSchedule schedule = new DetailSchedule(Duration.ofSeconds(10));
    assertThat(schedule.due(T0)).isTrue();
    for (int s = 1; s < 10; s++) {
      assertThat(schedule.due(T0.plusSeconds(s))).as("second %d", s).isFalse();
    }
    assertThat(schedule.due(T0.plusSeconds(10))).isTrue();
    assertThat(schedule.due(T0.plusSeconds(11))).isFalse();
    assertThat(schedule.due(T0.plusSeconds(35))).as("after a pause, at once").isTrue();
    assertThat(schedule.due(T0.plusSeconds(44))).isFalse();
    assertThat(schedule.due(T0.plusSeconds(45))).isTrue();
  }

  @Test
  void zeroMakesEveryCycleADetailCycle() {
    DetailSchedule schedule = new DetailSchedule(Duration.ZERO);
    assertThat(schedule.due(T0)).isTrue();
    assertThat(schedule.due(T0)).isTrue();
    assertThat(schedule.due(T0.plusMillis(1))).isTrue();
  }
}
