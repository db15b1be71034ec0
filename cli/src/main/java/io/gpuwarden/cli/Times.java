package io.gpuwarden.cli;

import com.google.protobuf.Timestamp;
import java.io.Console;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the client commands print points in time: ISO-8601 UTC to the second ({@code 2026-12-03T14:00:00Z}), so that
 * operators in different zones read the same text and scripts can parse it; and, for a person at a terminal whose
 * zone is not UTC, the local time beside it ({@code 2026-12-03T14:00:00Z (local 2026-12-03T15:00:00+01:00)}).
 *
 * <pre>{@code
 * Times times = Times.forThisProcess();
 * out.println("window ends " + times.format(end));
 * }</pre>
 */
public final class Times {
  /** An ISO-8601 UTC instant as the collector writes them in its messages. */
  private static final Pattern UTC_INSTANT = Pattern.compile("\\b\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?Z");
  private static final DateTimeFormatter LOCAL = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

  private final Optional<ZoneId> local;

  private Times(Optional<ZoneId> local) {
    this.local = local;
  }

  /** Returns times in UTC only. */
  public static Times utc() {
    return new Times(Optional.empty());
  }

  /** Returns times in UTC with the time in {@code zone} beside each. */
  public static Times withLocal(ZoneId zone) {
    return new Times(Optional.of(Objects.requireNonNull(zone, "zone")));
  }

  /**
   * Returns UTC only, unless output goes to a terminal and {@code zone} is not UTC: then the local time too.
   *
   * @param terminal whether a person reads the output at a terminal
   * @param zone the zone of this process
   */
  public static Times choose(boolean terminal, ZoneId zone) {
    return terminal && !zone.normalized().equals(ZoneOffset.UTC) ? withLocal(zone) : utc();
  }

  /** Returns the times for this process: the local time too when it runs at a terminal in a zone other than UTC. */
  public static Times forThisProcess() {
    return choose(atTerminal(), ZoneId.systemDefault());
  }

  /** Returns the local zone shown beside UTC, if any. */
  public Optional<ZoneId> local() {
    return local;
  }

  /** Returns {@code t} as ISO-8601 UTC to the second, with the local time beside it when this shows one. */
  public String format(Instant t) {
    String utc = utc(t);
    return local.map(z -> utc + " (local " + LOCAL.format(t.truncatedTo(ChronoUnit.SECONDS).atZone(z).toOffsetDateTime()) + ")")
        .orElse(utc);
  }

  /** Returns {@code t} as {@link #format(Instant)} does, or {@code -} when unset. */
  public String format(Timestamp t) {
    return t.getSeconds() == 0 && t.getNanos() == 0 ? "-" : format(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
  }

  /**
   * Returns {@code text} (e.g. a message from the collector) with the local time after each ISO-8601 UTC instant in
   * it, when this shows local times; otherwise {@code text} itself.
   */
  public String annotate(String text) {
    if (local.isEmpty()) {
      return text;
    }
    Matcher m = UTC_INSTANT.matcher(text);
    StringBuilder s = new StringBuilder();
    while (m.find()) {
      Instant t = Instant.parse(m.group());
      m.appendReplacement(s, Matcher.quoteReplacement(m.group() + format(t).substring(utc(t).length())));
    }
    m.appendTail(s);
    return s.toString();
  }

  /** Returns {@code t} as ISO-8601 UTC to the second, e.g. {@code 2026-12-03T14:00:00Z}. */
  public static String utc(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** Returns {@code d} in the largest whole unit: {@code 1d}, {@code 2h}, {@code 10m}, {@code 30s}, {@code 1500ms}. */
  public static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 86_400_000 == 0) {
      return ms / 86_400_000 + "d";
    }
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1_000 == 0 ? ms / 1_000 + "s" : ms + "ms";
  }

  /**
   * Returns whether this process runs at a terminal. Before JDK 22 {@link System#console()} is non-null only then;
   * from JDK 22 it may be non-null anyway, and {@code Console.isTerminal()} says.
   */
  static boolean atTerminal() {
    Console c = System.console();
    if (c == null) {
      return false;
    }
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(c);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }
}
