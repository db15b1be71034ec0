package io.gpuwarden.agent.source.infiniband;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads one sysfs attribute file as text in as few system calls as the format allows: open, read,
 * close. A sysfs attribute is at most a page and comes whole from one read, so the size query and
 * the read that finds the end, which a general file read makes, are skipped; a read that fills the
 * buffer is followed by more reads until the end, so a longer file (a fixture, say) is still read
 * whole.
 */
final class SysfsAttribute {
  /** A sysfs attribute's most: one page on the usual 4 KiB-page hosts; larger pages just loop. */
  private static final int PAGE = 4096;
  private static final ThreadLocal<ByteBuffer> BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(PAGE));

  private SysfsAttribute() {}

  /** Returns the file's content as ASCII text (bytes above 127 become U+FFFD). */
  static String read(Path file) throws IOException {
    ByteBuffer buffer = BUFFER.get();
    buffer.clear();
    StringBuilder longer = null;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (true) {
        int n = ch.read(buffer);
        if (n < 0 || buffer.hasRemaining()) {
          // End of file, or a short read: sysfs hands the whole attribute to the first read.
          String tail = ascii(buffer);
          return longer == null ? tail : longer.append(tail).toString();
        }
        if (longer == null) {
          longer = new StringBuilder();
        }
        longer.append(ascii(buffer));
        buffer.clear();
      }
    }
  }

  private static String ascii(ByteBuffer buffer) {
    buffer.flip();
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return new String(bytes, StandardCharsets.US_ASCII);
  }
}
