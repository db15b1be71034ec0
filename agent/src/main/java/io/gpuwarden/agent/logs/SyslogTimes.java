package io.gpuwarden.agent.logs;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.Optional;

/**
 * Parses the timestamps syslog files carry: RFC 3339 ({@code 2026-11-22T10:00:01.123456+00:00},
 * rsyslog's high-precision format) and the classic BSD form ({@code Nov 22 10:00:01}, which has no
 * year and no zone: it is read in the host's zone, in the year that puts it not more than a day in
 * the future of {@code now}).
 */
final class SyslogTimes {
  private static final DateTimeFormatter BSD = new DateTimeFormatterBuilder()
      .appendPattern("MMM")
      .appendLiteral(' ')
      .padNext(2)
      .appendValue(ChronoField.DAY_OF_MONTH)
      .appendPattern(" HH:mm:ss")
      .parseDefaulting(ChronoField.YEAR, 2000)
      .toFormatter(Locale.ROOT);

  private SyslogTimes() {}

  /** Returns the instant {@code timestamp} names, or empty when it is in neither form. */
  static Optional<Instant> parse(String timestamp, Instant now) {
    return parse(timestamp, now, ZoneId.systemDefault());
  }

  static Optional<Instant> parse(String timestamp, Instant now, ZoneId zone) {
    if (timestamp.isEmpty()) {
      return Optional.empty();
    }
    try {
      if (Character.isDigit(timestamp.charAt(0))) {
        return Optional.of(OffsetDateTime.parse(normaliseOffset(timestamp)).toInstant());
      }
      LocalDateTime t = LocalDateTime.parse(timestamp, BSD);
      int year = now.atZone(zone).getYear();
      Instant guess = t.withYear(year).atZone(zone).toInstant();
      if (guess.isAfter(now.plusSeconds(86_400))) {
        guess = t.withYear(year - 1).atZone(zone).toInstant(); // a December line read in January
      }
      return Optional.of(guess);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /** Adds what ISO parsing needs: a zone when none is given, and the colon of {@code +0000}. */
  private static String normaliseOffset(String ts) {
    if (ts.matches(".*[+-]\\d{4}$")) {
      return ts.substring(0, ts.length() - 2) + ":" + ts.substring(ts.length() - 2);
    }
    if (!ts.endsWith("Z") && !ts.matches(".*[+-]\\d{2}:\\d{2}$")) {
      return ts + "Z";
    }
    return ts;
  }
}
