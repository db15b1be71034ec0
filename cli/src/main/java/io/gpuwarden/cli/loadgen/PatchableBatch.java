package io.gpuwarden.cli.loadgen;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.IngestRequest;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One batch the agent built, encoded once, and sent by every simulated node as its own: per send
 * only the node's GPU UUIDs, the times and the sequence differ, so they are written into a copy of
 * the encoded bytes instead of building and encoding the message again (which would cost the load
 * generator more CPU than the collector spends on it).
 *
 * <p>What is patched, on the wire:
 * <ul>
 *   <li>every {@code google.protobuf.Timestamp}'s {@code seconds} in the batch, shifted by the same
 *       amount: the template's times keep their spacing and move to now. Seconds since the epoch
 *       between 2^28 (1978) and 2^35 are five-byte varints, so a shift keeps every length;
 *   <li>the last twelve characters of each GPU UUID, made the node's ({@link #uuidOf});
 *   <li>the sequence, appended as field 1 after the template's bytes (a parser takes fields in any
 *       order; the template has none).
 * </ul>
 * The result is a valid {@code IngestRequest} with the batch set, byte for byte what protobuf
 * decodes to the template with those three changes (tested). Immutable; thread-safe.
 */
final class PatchableBatch {
  private static final int SECONDS_VARINT_BYTES = 5;
  private static final int UUID_SUFFIX = 12;
  private static final String TIMESTAMP = Timestamp.getDescriptor().getFullName();

  private final byte[] bytes;
  private final int[] secondsAt;
  private final long[] seconds;
  private final long baseSeconds;
  private final int[] uuidAt;
  private final int[] uuidGpu;

  private PatchableBatch(byte[] bytes, int[] secondsAt, long[] seconds, long baseSeconds, int[] uuidAt, int[] uuidGpu) {
    this.bytes = bytes;
    this.secondsAt = secondsAt;
    this.seconds = seconds;
    this.baseSeconds = baseSeconds;
    this.uuidAt = uuidAt;
    this.uuidGpu = uuidGpu;
  }

  /**
   * Encodes {@code batch} (its sequence cleared) and finds where its times and the UUIDs of
   * {@code gpuUuids} (index = GPU index) are.
   *
   * @throws IllegalArgumentException when a time is outside the five-byte range or a UUID is shorter than 13 characters
   */
  static PatchableBatch of(TelemetryBatch batch, List<String> gpuUuids) {
    byte[] bytes = batch.toBuilder().clearSequence().build().toByteArray();
    List<int[]> times = new ArrayList<>();
    findTimes(bytes, 0, bytes.length, TelemetryBatch.getDescriptor(), times);
    int[] secondsAt = new int[times.size()];
    long[] seconds = new long[times.size()];
    for (int i = 0; i < secondsAt.length; i++) {
      secondsAt[i] = times.get(i)[0];
      seconds[i] = readVarint(bytes, secondsAt[i]);
    }
    List<Integer> at = new ArrayList<>();
    List<Integer> gpu = new ArrayList<>();
    for (int g = 0; g < gpuUuids.size(); g++) {
      byte[] uuid = gpuUuids.get(g).getBytes(StandardCharsets.UTF_8);
      if (uuid.length <= UUID_SUFFIX) {
        throw new IllegalArgumentException("GPU UUID '" + gpuUuids.get(g) + "' is too short to make one per node");
      }
      for (int from = indexOf(bytes, uuid, 0); from >= 0; from = indexOf(bytes, uuid, from + uuid.length)) {
        at.add(from + uuid.length - UUID_SUFFIX);
        gpu.add(g);
      }
    }
    return new PatchableBatch(bytes, secondsAt, seconds, batch.getSampleTime().getSeconds(),
        at.stream().mapToInt(Integer::intValue).toArray(), gpu.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * Returns the UUID node {@code node}'s GPU gets for the template UUID {@code uuid} of GPU
   * {@code gpu}: its last twelve characters replaced by the node and GPU in hexadecimal.
   */
  static String uuidOf(String uuid, int node, int gpu) {
    return uuid.substring(0, uuid.length() - UUID_SUFFIX) + suffix(node, gpu);
  }

  private static String suffix(int node, int gpu) {
    return String.format(java.util.Locale.ROOT, "%08x%04x", node, gpu & 0xffff);
  }

  /** Returns how many bytes the batch has without its sequence. */
  int size() {
    return bytes.length;
  }

  /**
   * Returns the encoded {@code IngestRequest} of node {@code node}'s batch number {@code sequence},
   * its sample time at {@code sampleSeconds} (seconds since the epoch) and every other time moved with it.
   */
  byte[] request(int node, long sampleSeconds, long sequence) {
    int batchLength = bytes.length + 1 + varintSize(sequence);
    byte[] out = new byte[1 + varintSize(batchLength) + batchLength];
    int p = 0;
    out[p++] = (byte) (IngestRequest.BATCH_FIELD_NUMBER << 3 | 2);
    p = writeVarint(out, p, batchLength);
    int start = p;
    System.arraycopy(bytes, 0, out, start, bytes.length);
    long shift = sampleSeconds - baseSeconds;
    for (int i = 0; i < secondsAt.length; i++) {
      writeFiveByteVarint(out, start + secondsAt[i], seconds[i] + shift);
    }
    byte[] hex = new byte[UUID_SUFFIX];
    for (int i = 0; i < uuidAt.length; i++) {
      writeHex(hex, node, uuidGpu[i]);
      System.arraycopy(hex, 0, out, start + uuidAt[i], UUID_SUFFIX);
    }
    p = start + bytes.length;
    out[p++] = (byte) (TelemetryBatch.SEQUENCE_FIELD_NUMBER << 3);
    writeVarint(out, p, sequence);
    return out;
  }

  private static void writeHex(byte[] into, int node, int gpu) {
    long v = (long) node << 16 | (gpu & 0xffff);
    for (int i = UUID_SUFFIX - 1; i >= 0; i--) {
      into[i] = (byte) Character.forDigit((int) (v & 0xf), 16);
      v >>>= 4;
    }
  }

  /** Adds to {@code out} the offset of the seconds varint of every Timestamp in {@code bytes[from, to)}, a {@code type}. */
  private static void findTimes(byte[] b, int from, int to, Descriptor type, List<int[]> out) {
    int p = from;
    boolean timestamp = type.getFullName().equals(TIMESTAMP);
    while (p < to) {
      long tag = readVarint(b, p);
      p += varintLength(b, p);
      int field = (int) (tag >>> 3);
      int wire = (int) (tag & 7);
      switch (wire) {
        case 0 -> {
          if (timestamp && field == Timestamp.SECONDS_FIELD_NUMBER) {
            if (varintLength(b, p) != SECONDS_VARINT_BYTES) {
              throw new IllegalArgumentException("a time of " + readVarint(b, p)
                  + " s since the epoch is outside the range the load generator can move (2^28 to 2^35)");
            }
            out.add(new int[] {p});
          }
          p += varintLength(b, p);
        }
        case 1 -> p += 8;
        case 5 -> p += 4;
        case 2 -> {
          int length = (int) readVarint(b, p);
          p += varintLength(b, p);
          FieldDescriptor fd = type.findFieldByNumber(field);
          if (fd != null && fd.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            findTimes(b, p, p + length, fd.getMessageType(), out);
          }
          p += length;
        }
        default -> throw new IllegalArgumentException("wire type " + wire + " at byte " + p + " is not in proto3");
      }
    }
  }

  private static long readVarint(byte[] b, int p) {
    long v = 0;
    for (int shift = 0; ; shift += 7) {
      byte x = b[p++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return v;
      }
    }
  }

  private static int varintLength(byte[] b, int p) {
    int n = 1;
    while (b[p++] < 0) {
      n++;
    }
    return n;
  }

  static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7fL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  private static int writeVarint(byte[] out, int p, long v) {
    while ((v & ~0x7fL) != 0) {
      out[p++] = (byte) ((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    out[p++] = (byte) v;
    return p;
  }

  private static void writeFiveByteVarint(byte[] out, int p, long v) {
    if (v < 1L << 28 || v >= 1L << 35) {
      throw new IllegalArgumentException("time " + v + " s is outside 2^28 to 2^35");
    }
    for (int i = 0; i < 4; i++) {
      out[p + i] = (byte) ((v >>> (7 * i) & 0x7f) | 0x80);
    }
    out[p + 4] = (byte) (v >>> 28);
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
