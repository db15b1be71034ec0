package io.gpuwarden.agent.source.syslog;

import static java.util.Objects.requireNonNull;

import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of a syslog or kern.log file, split into its parts, with the kernel's
 * {@code [12345.678]} uptime stamp taken off the message.
 *
 * <pre>
 * Nov 22 10:00:01 host kernel: [12345.678] NVRM: Xid ...
 * 2026-11-22T10:00:01.123456+00:00 host kernel: NVRM: Xid ...
 * </pre>
 *
 * A line in neither form is kept whole as the message, with empty timestamp, host and tag.
 *
 * @param timestamp the timestamp as written (BSD or RFC 3339)
 * @param host the host name
 * @param tag the program, e.g. {@code kernel}
 * @param kernelSeconds seconds since boot from a {@code [12345.678]} stamp, when present
 * @param message the message text after the tag (and stamp)
 */
public record SyslogLine(String timestamp, String host, String tag, OptionalDouble kernelSeconds, String message) {
  private static final Pattern LINE = Pattern.compile(
      "^(?<ts>[A-Z][a-z]{2} [ \\d]\\d \\d{2}:\\d{2}:\\d{2}|\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:?\\d{2})?)"
          + " (?<host>\\S+) (?<tag>[^\\s:\\[]+)(?:\\[\\d+\\])?: ?(?<msg>.*)$");
  private static final Pattern STAMP = Pattern.compile("^\\[\\s*(?<sec>\\d+\\.\\d+)\\] ?");

  /** Validates. */
  public SyslogLine {
    requireNonNull(timestamp, "timestamp");
    requireNonNull(host, "host");
    requireNonNull(tag, "tag");
    requireNonNull(kernelSeconds, "kernelSeconds");
    requireNonNull(message, "message");
  }

  /** Splits {@code line}. */
  public static SyslogLine parse(String line) {
    Matcher m = LINE.matcher(line);
    if (!m.matches()) {
      return new SyslogLine("", "", "", OptionalDouble.empty(), line);
    }
    String msg = m.group("msg");
    OptionalDouble seconds = OptionalDouble.empty();
    Matcher s = STAMP.matcher(msg);
    if (s.find()) {
      seconds = OptionalDouble.of(Double.parseDouble(s.group("sec")));
      msg = msg.substring(s.end());
    }
    return new SyslogLine(m.group("ts"), m.group("host"), m.group("tag"), seconds, msg);
  }

  /** Returns true when the kernel logged the line. */
  public boolean fromKernel() {
    return tag.equals("kernel");
  }
}
