package io.gpuwarden.agent.source.infiniband;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the text of InfiniBand sysfs attribute files (drivers/infiniband/core/sysfs.c):
 * {@code state} ("4: ACTIVE"), {@code phys_state} ("5: LinkUp"), {@code rate}
 * ("400 Gb/sec (4X NDR)", "2.5 Gb/sec (1X SDR)", "12.5 Gb/sec (1X FDR10)"), and knows the native
 * width of the narrow error counters, which saturate at all-ones instead of wrapping.
 */
public final class InfinibandFormats {
  private static final Pattern NUMBERED = Pattern.compile("\\s*(\\d+)\\s*:\\s*(.*?)\\s*");
  private static final Pattern RATE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*Gb/sec(?:\\s*\\((.*)\\))?\\s*");

  /** Native bit widths of the PortCounters fields exposed in {@code counters/}. */
  public static final Map<String, Integer> COUNTER_BITS = Map.ofEntries(
      Map.entry("symbol_error", 16),
      Map.entry("link_error_recovery", 8),
      Map.entry("link_downed", 8),
      Map.entry("port_rcv_errors", 16),
      Map.entry("port_rcv_remote_physical_errors", 16),
      Map.entry("port_rcv_switch_relay_errors", 16),
      Map.entry("port_xmit_discards", 16),
      Map.entry("port_xmit_constraint_errors", 8),
      Map.entry("port_rcv_constraint_errors", 8),
      Map.entry("local_link_integrity_errors", 4),
      Map.entry("excessive_buffer_overrun_errors", 4),
      Map.entry("VL15_dropped", 16),
      Map.entry("port_xmit_wait", 32));

  private InfinibandFormats() {}

  /** A numbered state, e.g. 4 / "ACTIVE". */
  public record NumberedState(int number, String name) {}

  /** A link rate: bits per second and the file's text. */
  public record Rate(long bitsPerSecond, String text) {}

  /**
   * Parses {@code "4: ACTIVE"}.
   *
   * @throws IllegalArgumentException quoting the text
   */
  public static NumberedState numbered(String text) {
    Matcher m = NUMBERED.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected 'N: NAME', got '" + text.strip() + "'");
    }
    return new NumberedState(Integer.parseInt(m.group(1)), m.group(2));
  }

  /**
   * Parses {@code "400 Gb/sec (4X NDR)"} into 400,000,000,000 bits/s.
   *
   * @throws IllegalArgumentException quoting the text
   */
  public static Rate rate(String text) {
    Matcher m = RATE.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("expected 'N Gb/sec (WIDTH SPEED)', got '" + text.strip() + "'");
    }
    long bits = new java.math.BigDecimal(m.group(1)).multiply(java.math.BigDecimal.valueOf(1_000_000_000L)).longValueExact();
    return new Rate(bits, text.strip());
  }

  /**
   * Parses a counter file's value (a decimal, possibly up to 2^64-1, kept as the unsigned bits of a long).
   *
   * @throws IllegalArgumentException quoting the text (older kernels print "N/A (no PMA)")
   */
  public static long counter(String text) {
    String t = text.strip();
    try {
      return Long.parseUnsignedLong(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a counter value: '" + t + "'");
    }
  }

  /** Returns true when counter {@code name} is narrow and sits at its all-ones maximum. */
  public static boolean saturated(String name, long value) {
    Integer bits = COUNTER_BITS.get(name);
    return bits != null && bits < 64 && value == (1L << bits) - 1;
  }

  /** Returns true for the data counters that count 4-byte words ({@code port_xmit_data}, {@code port_rcv_data}). */
  public static boolean countsWords(String name) {
    return name.equals("port_xmit_data") || name.equals("port_rcv_data");
  }
}
