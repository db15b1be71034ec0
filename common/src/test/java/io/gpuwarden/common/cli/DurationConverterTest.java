package io.gpuwarden.common.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationConverterTest {
  @Test
  void parsesShortFormsAndIso() {
    assertThat(DurationConverter.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(DurationConverter.parse("20s")).isEqualTo(Duration.ofSeconds(20));
    assertThat(DurationConverter.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(DurationConverter.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(DurationConverter.parse("1d")).isEqualTo(Duration.ofDays(1));
    assertThat(DurationConverter.parse("PT20S")).isEqualTo(Duration.ofSeconds(20));
  }

  @Test
  void rejectsGarbageNamingTheInputAndTheForms() {
    assertThatThrownBy(() -> DurationConverter.parse("20 seconds"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'20 seconds'")
        .hasMessageContaining("500ms");
  }
}
