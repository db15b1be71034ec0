package io.gpuwarden.agent.uplink;

import com.google.protobuf.InvalidProtocolBufferException;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

/**
 * One spool file: length-prefixed, CRC32-checked {@link TelemetryBatch} records in sequence order,
 * named after the first sequence written to it ({@code seg-00000000000000000042.spool}).
 *
 * <p>Record layout: 4-byte payload length, 4-byte CRC32 of the payload, the payload. A crash can
 * leave a torn last record; {@link #open} stops at it and counts it, and a record whose CRC does not
 * match is skipped and counted, so a damaged file costs the damaged records, never the agent.
 *
 * <p>Not thread-safe; the {@link Spool} guards it.
 */
final class SpoolSegment {
  static final int HEADER_BYTES = 8;
  /** Larger lengths are garbage (a torn or overwritten header), not records. */
  static final int MAX_RECORD_BYTES = 64 << 20;
  private static final Pattern NAME = Pattern.compile("seg-(\\d{20})\\.spool");

  private final Path path;
  private final long firstSequence;
  private FileChannel channel;
  private long size;
  private long lastSequence;
  private boolean sealed;
  private boolean stripped = true;

  /** Where one record lies, and whether it still carries samples or log lines to strip. */
  record Record(long sequence, long offset, int length, boolean bulky) {}

  /** What {@link #open} found: the segment, its readable records in order, and how many were damaged. */
  record Scan(SpoolSegment segment, List<Record> records, int corrupt) {}

  private SpoolSegment(Path path, long firstSequence, FileChannel channel) {
    this.path = path;
    this.firstSequence = firstSequence;
    this.channel = channel;
    this.lastSequence = firstSequence - 1;
  }

  /** Returns the first sequence a segment file's name says, or empty when it is not a segment file. */
  static OptionalLong firstSequenceOf(Path file) {
    Matcher m = NAME.matcher(file.getFileName().toString());
    return m.matches() ? OptionalLong.of(Long.parseLong(m.group(1))) : OptionalLong.empty();
  }

  /** Creates a new, empty segment for appending. */
  static SpoolSegment create(Path directory, long firstSequence) throws IOException {
    Path path = directory.resolve(String.format("seg-%020d.spool", firstSequence));
    return new SpoolSegment(path, firstSequence, FileChannel.open(path,
        StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
  }

  /** Opens an existing segment read-only (sealed) and indexes its readable records. */
  static Scan open(Path path, long firstSequence) throws IOException {
    ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(path));
    SpoolSegment segment = new SpoolSegment(path, firstSequence, FileChannel.open(path, StandardOpenOption.READ));
    segment.size = bytes.capacity();
    segment.sealed = true;
    List<Record> records = new ArrayList<>();
    int corrupt = 0;
    while (bytes.remaining() > 0) {
      int offset = bytes.position();
      if (bytes.remaining() < HEADER_BYTES) {
        corrupt++; // torn header
        break;
      }
      int length = bytes.getInt();
      int crc = bytes.getInt();
      if (length < 0 || length > MAX_RECORD_BYTES || length > bytes.remaining()) {
        corrupt++; // torn payload or a garbage length: nothing after it can be trusted
        break;
      }
      byte[] payload = new byte[length];
      bytes.get(payload);
      if (crc(payload) != crc) {
        corrupt++;
        continue;
      }
      try {
        TelemetryBatch b = TelemetryBatch.parseFrom(payload);
        if (b.getSequence() <= segment.lastSequence) {
          corrupt++;
          continue;
        }
        records.add(new Record(b.getSequence(), offset, length, bulky(b)));
        segment.noteAppended(b.getSequence(), bulky(b));
      } catch (InvalidProtocolBufferException e) {
        corrupt++;
      }
    }
    return new Scan(segment, records, corrupt);
  }

  /**
   * Appends one record; a failed write is cut off again so the file never keeps a torn record
   * ahead of later ones.
   *
   * @return the record's offset
   */
  long append(TelemetryBatch batch, byte[] payload) throws IOException {
    if (sealed) {
      throw new IllegalStateException("segment " + path + " is sealed");
    }
    ByteBuffer record = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    record.putInt(payload.length).putInt(crc(payload)).put(payload).flip();
    long offset = size;
    try {
      while (record.hasRemaining()) {
        channel.write(record, offset + record.position());
      }
    } catch (IOException e) {
      try {
        channel.truncate(offset);
      } catch (IOException ignored) {
        sealed = true; // cannot repair: take no more records
      }
      throw e;
    }
    size += record.limit();
    noteAppended(batch.getSequence(), bulky(batch));
    return offset;
  }

  /** Reads and checks the record at {@code offset}. */
  TelemetryBatch read(long offset, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES + length);
    while (buf.hasRemaining()) {
      if (channel.read(buf, offset + buf.position()) < 0) {
        throw new IOException("spool record at " + path + ":" + offset + " is cut short");
      }
    }
    buf.flip();
    int storedLength = buf.getInt();
    int crc = buf.getInt();
    byte[] payload = new byte[length];
    buf.get(payload);
    if (storedLength != length || crc(payload) != crc) {
      throw new IOException("spool record at " + path + ":" + offset + " fails its CRC check");
    }
    return TelemetryBatch.parseFrom(payload);
  }

  /**
   * Replaces the file's contents with {@code batches} (write a temporary file, fsync, rename), so a
   * crash leaves the old or the new segment. The segment is sealed afterwards.
   *
   * @return where each batch now lies
   */
  List<Record> replaceWith(List<TelemetryBatch> batches) throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    List<Record> records = new ArrayList<>(batches.size());
    long newSize = 0;
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      for (TelemetryBatch b : batches) {
        byte[] payload = b.toByteArray();
        ByteBuffer record = ByteBuffer.allocate(HEADER_BYTES + payload.length);
        record.putInt(payload.length).putInt(crc(payload)).put(payload).flip();
        while (record.hasRemaining()) {
          out.write(record);
        }
        records.add(new Record(b.getSequence(), newSize, payload.length, bulky(b)));
        newSize += HEADER_BYTES + payload.length;
      }
      out.force(true);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    try {
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
    }
    closeQuietly();
    channel = FileChannel.open(path, StandardOpenOption.READ);
    size = newSize;
    sealed = true;
    stripped = records.stream().noneMatch(Record::bulky);
    return records;
  }

  /** Flushes the file to the device and takes no more records. Idempotent. */
  void seal() throws IOException {
    if (!sealed) {
      sealed = true;
      channel.force(true);
    }
  }

  /** Closes and deletes the file. */
  void delete() throws IOException {
    closeQuietly();
    Files.deleteIfExists(path);
  }

  void closeQuietly() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing left to flush that matters: sealed segments were forced, others are being dropped
    }
  }

  /** Marks the segment as holding nothing left to strip (a rewrite would not make it smaller). */
  void markStripped() {
    stripped = true;
  }

  private void noteAppended(long sequence, boolean bulky) {
    lastSequence = Math.max(lastSequence, sequence);
    stripped &= !bulky;
  }

  Path path() {
    return path;
  }

  long firstSequence() {
    return firstSequence;
  }

  long lastSequence() {
    return lastSequence;
  }

  long size() {
    return size;
  }

  boolean sealed() {
    return sealed;
  }

  /** Returns true when no record carries samples or log lines any more. */
  boolean stripped() {
    return stripped;
  }

  /** Returns true when {@code b} carries samples or log lines that compaction could strip. */
  static boolean bulky(TelemetryBatch b) {
    return b.getGpuSamplesCount() + b.getInfinibandSamplesCount() + b.getLogLinesCount() > 0;
  }

  static int crc(byte[] payload) {
    CRC32 crc = new CRC32();
    crc.update(payload);
    return (int) crc.getValue();
  }
}
