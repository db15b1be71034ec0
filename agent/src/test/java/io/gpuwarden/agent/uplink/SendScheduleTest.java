package io.gpuwarden.agent.uplink;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SendScheduleTest {
  private static final long S = 1_000_000_000L;
  private static final Optional<Duration> UNSAID = Optional.empty();

  @Test
  void sendsTheFirstBatchThenOnceTheIntervalHasPassed() {
    SendSchedule s = new SendSchedule(Duration.ofSeconds(5), Duration.ofSeconds(1));
    assertThat(s.due(0, false, UNSAID)).isTrue();
    for (int i = 1; i <= 4; i++) {
      assertThat(s.due(i * S, false, UNSAID)).as("second %d", i).isFalse();
    }
    assertThat(s.due(5 * S - S / 10, false, UNSAID)).as("a cycle 100 ms early still sends").isTrue();
    assertThat(s.due(6 * S, false, UNSAID)).isFalse();
  }

  @Test
  void anUrgentBatchGoesAtOnceAndRestartsTheInterval() {
    SendSchedule s = new SendSchedule(Duration.ofSeconds(5), Duration.ofSeconds(1));
    s.due(0, false, UNSAID);
    assertThat(s.due(2 * S, true, UNSAID)).isTrue();
    assertThat(s.due(5 * S, false, UNSAID)).isFalse();
    assertThat(s.due(7 * S, false, UNSAID)).isTrue();
  }

  @Test
  void theIntervalIsAtMostHalfTheCollectorsStaleAfter() {
    SendSchedule s = new SendSchedule(Duration.ofSeconds(60), Duration.ofSeconds(1));
    Optional<Duration> staleAfter = Optional.of(Duration.ofSeconds(10));
    assertThat(s.effectiveInterval(staleAfter)).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.effectiveInterval(UNSAID)).isEqualTo(Duration.ofSeconds(60));
    assertThat(s.effectiveInterval(Optional.of(Duration.ZERO))).as("zero means unsaid").isEqualTo(Duration.ofSeconds(60));
    s.due(0, false, staleAfter);
    assertThat(s.due(4 * S, false, staleAfter)).isFalse();
    assertThat(s.due(5 * S, false, staleAfter)).isTrue();
  }

  @Test
  void anIntervalUpToTheSampleIntervalSendsEveryBatch() {
    SendSchedule zero = new SendSchedule(Duration.ZERO, Duration.ofSeconds(1));
    SendSchedule same = new SendSchedule(Duration.ofSeconds(1), Duration.ofSeconds(1));
    for (int i = 0; i < 5; i++) {
      assertThat(zero.due(i * S, false, UNSAID)).isTrue();
      assertThat(same.due(i * S, false, UNSAID)).isTrue();
    }
  }
}
