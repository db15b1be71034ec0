package io.gpuwarden.cli.gate;

import io.gpuwarden.common.cli.DurationConverter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import picocli.CommandLine;

/**
 * Parses the points in time the gate commands take: an ISO-8601 instant ({@code 2024-05-01T22:00:00Z}), or a
 * duration relative to now — back from now for {@code --since 2h}, ahead of now for {@code --start +10m}.
 */
final class TimeArgument {
  private TimeArgument() {}

  /**
   * Parses a {@code --since} value: an instant, or a duration meaning that long before {@code now}.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  static Instant since(String text, Instant now) {
    String t = text.trim();
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException notAnInstant) {
      try {
        return now.minus(positive(DurationConverter.parse(t)));
      } catch (IllegalArgumentException notADuration) {
        throw new IllegalArgumentException("invalid time '" + text
            + "': use a duration back from now (e.g. 30m, 2h, 1d) or an ISO-8601 instant (e.g. 2024-05-01T10:00:00Z)");
      }
    }
  }

  /**
   * Parses a window bound: an instant, or {@code +DURATION} meaning that long after {@code now}.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  static Instant at(String text, Instant now) {
    String t = text.trim();
    try {
      if (t.startsWith("+")) {
        return now.plus(positive(DurationConverter.parse(t.substring(1))));
      }
      return Instant.parse(t);
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new IllegalArgumentException("invalid time '" + text
          + "': use +DURATION from now (e.g. +10m, +2h, +1d) or an ISO-8601 instant (e.g. 2024-05-01T22:00:00Z)");
    }
  }

  private static Duration positive(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative duration");
    }
    return d;
  }

  /** Picocli converter for {@code --since}. */
  static final class Since implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return since(value, Instant.now());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Picocli converter for {@code --start} and {@code --end}. */
  static final class At implements CommandLine.ITypeConverter<Instant> {
    @Override
    public Instant convert(String value) {
      try {
        return at(value, Instant.now());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
