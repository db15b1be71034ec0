package io.gpuwarden.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProtoTimeTest {
  @Test
  void instantsAndDurationsKeepSecondsAndNanos() {
    Instant t = Instant.parse("2026-11-30T10:00:01.123456789Z");
    assertThat(ProtoTime.of(t).getSeconds()).isEqualTo(t.getEpochSecond());
    assertThat(ProtoTime.of(t).getNanos()).isEqualTo(123_456_789);
    Duration d = Duration.ofSeconds(10, 500_000_001);
    assertThat(ProtoTime.of(d).getSeconds()).isEqualTo(10);
    assertThat(ProtoTime.of(d).getNanos()).isEqualTo(500_000_001);
    assertThat(ProtoTime.duration(ProtoTime.of(d))).isEqualTo(d);
  }
}
