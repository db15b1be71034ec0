package io.gpuwarden.agent.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Parses sizes written as {@code 1048576}, {@code 512K}, {@code 256MiB}, {@code 1.5G} or
 * {@code 2GB}: units are binary (K = 1024) with or without {@code iB}/{@code B}, in any case.
 */
public final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?)(?:i?b)?");

  @Override
  public Long convert(String value) {
    return parse(value);
  }

  /**
   * Parses {@code text} into bytes.
   *
   * @throws IllegalArgumentException naming the text and the accepted forms
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "invalid size '" + text + "': use a number of bytes, optionally with K, M, G or T (e.g. 256MiB, 1G, 512K)");
    }
    int shift = switch (m.group(2)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      case "t" -> 40;
      default -> 0;
    };
    double bytes = Double.parseDouble(m.group(1)) * (1L << shift);
    if (bytes >= Long.MAX_VALUE) {
      throw new IllegalArgumentException("size '" + text + "' is too large");
    }
    return (long) bytes;
  }
}
