package io.gpuwarden.agent.source.kmsg;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the {@code /dev/kmsg} record format (Documentation/ABI/testing/dev-kmsg):
 *
 * <pre>
 * PRI,SEQ,TS_USEC,FLAGS[,more fields];message text
 *  KEY=value
 *  KEY=value
 * </pre>
 *
 * PRI is {@code facility * 8 + level}; FLAGS is {@code -}, {@code c} (continuation) or {@code +};
 * fields after FLAGS (newer kernels add a caller id) are ignored; non-printable bytes in the text
 * and dictionary are escaped as {@code \xNN}. Continuation lines start with one space.
 */
public final class KmsgParser {
  private KmsgParser() {}

  /**
   * Parses one record: its header line and its continuation lines (without the leading space or
   * with it; both are accepted).
   *
   * @throws IllegalArgumentException naming what is wrong and quoting the line
   */
  public static KmsgRecord parse(String header, List<String> continuationLines) {
    int semi = header.indexOf(';');
    if (semi < 0) {
      throw new IllegalArgumentException("kmsg record without ';' between prefix and message: " + quote(header));
    }
    String[] fields = header.substring(0, semi).split(",");
    if (fields.length < 3) {
      throw new IllegalArgumentException("kmsg prefix needs PRI,SEQ,TS_USEC: " + quote(header));
    }
    int pri;
    long seq;
    long ts;
    try {
      pri = Integer.parseInt(fields[0].trim());
      seq = Long.parseLong(fields[1].trim());
      ts = Long.parseLong(fields[2].trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("kmsg prefix has a non-numeric PRI, SEQ or TS_USEC: " + quote(header));
    }
    if (pri < 0 || seq < 0 || ts < 0) {
      throw new IllegalArgumentException("kmsg prefix has a negative field: " + quote(header));
    }
    boolean cont = fields.length > 3 && (fields[3].contains("c") || fields[3].contains("+"));
    Map<String, String> dict = new LinkedHashMap<>();
    for (String line : continuationLines) {
      String l = line.startsWith(" ") ? line.substring(1) : line;
      int eq = l.indexOf('=');
      if (eq > 0) {
        dict.put(unescape(l.substring(0, eq)), unescape(l.substring(eq + 1)));
      }
    }
    return new KmsgRecord(pri & 7, pri >> 3, seq, ts, cont, unescape(header.substring(semi + 1)), dict);
  }

  /**
   * Parses one record as a single {@code read()} of {@code /dev/kmsg} returns it: the header line, then
   * continuation lines each starting with one space, separated by newlines.
   *
   * @throws IllegalArgumentException naming what is wrong and quoting the record
   */
  public static KmsgRecord parseBlock(String block) {
    String[] lines = block.split("\n");
    if (lines.length == 0 || lines[0].isEmpty()) {
      throw new IllegalArgumentException("empty kmsg record");
    }
    List<String> continuation = new ArrayList<>(lines.length - 1);
    for (int i = 1; i < lines.length; i++) {
      if (!lines[i].isEmpty()) {
        continuation.add(lines[i]);
      }
    }
    return parse(lines[0], continuation);
  }

  /** Decodes {@code \xNN} escapes (as UTF-8 bytes); a malformed escape is kept as written. */
  public static String unescape(String s) {
    if (s.indexOf("\\x") < 0) {
      return s;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    byte[] raw = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] == '\\' && i + 3 < raw.length && raw[i + 1] == 'x' && hex(raw[i + 2]) >= 0 && hex(raw[i + 3]) >= 0) {
        out.write(hex(raw[i + 2]) * 16 + hex(raw[i + 3]));
        i += 3;
      } else {
        out.write(raw[i]);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }

  private static String quote(String line) {
    return "'" + (line.length() > 200 ? line.substring(0, 200) + "..." : line) + "'";
  }
}
