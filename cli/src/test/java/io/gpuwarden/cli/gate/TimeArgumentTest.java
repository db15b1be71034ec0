package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TimeArgumentTest {
  private static final Instant NOW = Instant.parse("2024-05-01T12:00:00Z");

  @Test
  void windowBoundTakesPlusDurationFromNow() {
    assertThat(TimeArgument.at("+10m", NOW)).isEqualTo(NOW.plus(Duration.ofMinutes(10)));
    assertThat(TimeArgument.at("+1d", NOW)).isEqualTo(Instant.parse("2024-05-02T12:00:00Z"));
  }

  @Test
  void windowBoundTakesAnIsoInstant() {
    assertThat(TimeArgument.at("2024-05-01T22:00:00Z", NOW)).isEqualTo(Instant.parse("2024-05-01T22:00:00Z"));
  }

  @Test
  void windowBoundRejectsABareDurationAndNonsenseNamingTheAcceptedForms() {
    assertThatThrownBy(() -> TimeArgument.at("10m", NOW)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid time '10m': use +DURATION from now (e.g. +10m, +2h, +1d) or an ISO-8601 instant "
            + "(e.g. 2024-05-01T22:00:00Z)");
    assertThatThrownBy(() -> TimeArgument.at("+soon", NOW)).hasMessageStartingWith("invalid time '+soon': use +DURATION");
    assertThatThrownBy(() -> TimeArgument.at("+-PT1H", NOW)).hasMessageStartingWith("invalid time '+-PT1H'");
  }

  @Test
  void sinceTakesADurationBackFromNowOrAnInstant() {
    assertThat(TimeArgument.since("2h", NOW)).isEqualTo(Instant.parse("2024-05-01T10:00:00Z"));
    assertThat(TimeArgument.since("2024-04-30T00:00:00Z", NOW)).isEqualTo(Instant.parse("2024-04-30T00:00:00Z"));
    assertThatThrownBy(() -> TimeArgument.since("yesterday", NOW))
        .hasMessage("invalid time 'yesterday': use a duration back from now (e.g. 30m, 2h, 1d) or an ISO-8601 instant "
            + "(e.g. 2024-05-01T10:00:00Z)");
  }

  @Test
  void convertersReportBadInputAsPicocliConversionErrors() {
    assertThatThrownBy(() -> new TimeArgument.At().convert("tomorrow"))
        .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageStartingWith("invalid time 'tomorrow'");
    assertThatThrownBy(() -> new TimeArgument.Since().convert("tomorrow"))
        .isInstanceOf(CommandLine.TypeConversionException.class).hasMessageStartingWith("invalid time 'tomorrow'");
  }
}
