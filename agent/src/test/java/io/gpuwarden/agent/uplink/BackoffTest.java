package io.gpuwarden.agent.uplink;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void ceilingDoublesUpToTheCapWithFullJitterBelowIt() {
    Backoff max = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), () -> 0.999999);
    assertThat(max.next()).isEqualTo(Duration.ofMillis(99));
    assertThat(max.next()).isEqualTo(Duration.ofMillis(199));
    assertThat(max.next()).isEqualTo(Duration.ofMillis(399));
    assertThat(max.next()).isEqualTo(Duration.ofMillis(799));
    assertThat(max.next()).isEqualTo(Duration.ofMillis(999));
    assertThat(max.next()).isEqualTo(Duration.ofMillis(999));

    Backoff min = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), () -> 0.0);
    assertThat(min.next()).isZero();
  }

  @Test
  void resetStartsOverFromTheInitialWait() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), () -> 0.5);
    b.next();
    b.next();
    b.next();
    b.reset();
    assertThat(b.next()).isEqualTo(Duration.ofMillis(50));
  }

  @Test
  void manyAttemptsNeverOverflow() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(30), () -> 0.5);
    for (int i = 0; i < 1000; i++) {
      assertThat(b.next()).isBetween(Duration.ZERO, Duration.ofSeconds(30));
    }
  }
}
