package io.gpuwarden.agent.uplink;

import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.logging.Logger;

/**
 * The uplink's store of unacknowledged batches, and the sequence space they are numbered in.
 *
 * <p>The newest {@link SpoolConfig#memoryBatches()} batches stay in memory; older ones go to
 * segment files ({@link SpoolSegment}) whose total size is capped. When the cap would be exceeded
 * the oldest segment still holding samples is rewritten without its GPU samples, InfiniBand
 * samples and log lines (each stripped batch keeps its sequence, events and check results, and
 * reports what it lost in its own {@code dropped_samples} / {@code dropped_log_lines}); only when
 * every segment is stripped are whole oldest segments dropped, and what their batches carried is
 * counted into the next batch appended. The stream id and next sequence live beside the segments
 * ({@link StreamState}), so after a restart the same stream continues and the collector's resume
 * point decides what is replayed.
 *
 * <p>A directory that cannot be used leaves a memory-only spool (say so with
 * {@link SpoolStats#diskProblem()}); a disk that fails later costs the batches that could not be
 * written, counted, never the agent.
 *
 * <pre>{@code
 * Spool spool = Spool.open(SpoolConfig.defaults().withDirectory(dir));
 * long seq = spool.append(batch);
 * spool.acknowledge(seq);
 * }</pre>
 *
 * <p>Thread-safe: all state is guarded by {@code this}.
 */
public final class Spool implements AutoCloseable {
  private static final Logger log = Logger.getLogger(Spool.class.getName());
  /** Sequences reserved in the state file ahead of use, so it is written once per this many batches. */
  static final long SEQUENCE_RESERVATION = 1000;

  private final SpoolConfig config;
  private final Path directory; // null: memory only
  private final String streamId;
  private final TreeMap<Long, TelemetryBatch> memory = new TreeMap<>();
  private final TreeMap<Long, DiskRecord> index = new TreeMap<>();
  private final List<SpoolSegment> segments = new ArrayList<>();
  private SpoolSegment tail;
  private long nextSequence;
  private long reservedUpTo;
  private long acknowledged;
  private long diskBytes;
  private final int recoveredBatches;
  private long droppedSamples;
  private long droppedLogLines;
  private long droppedBatches;
  private long corruptRecords;
  private long pendingDroppedSamples;
  private long pendingDroppedLogLines;
  private String diskProblem;
  private boolean closed;

  private record DiskRecord(SpoolSegment segment, long offset, int length) {}

  private Spool(SpoolConfig config, Path directory, StreamState state, String diskProblem) {
    this.config = config;
    this.directory = directory;
    this.streamId = state.streamId();
    this.nextSequence = state.nextSequence();
    this.reservedUpTo = state.nextSequence() - 1;
    this.acknowledged = state.acknowledged();
    this.pendingDroppedSamples = state.pendingDroppedSamples();
    this.pendingDroppedLogLines = state.pendingDroppedLogLines();
    this.diskProblem = diskProblem;
    this.recoveredBatches = directory == null ? 0 : recover();
  }

  /**
   * Opens the spool in {@code config.directory()}, creating it if needed, and takes over the
   * segments and stream a previous run left there. Never throws for the directory: one that cannot
   * be used leaves a memory-only spool on a fresh stream, and says why.
   */
  public static Spool open(SpoolConfig config) {
    Path dir = config.directory();
    try {
      Files.createDirectories(dir);
      StreamState state = StreamState.load(dir).orElseGet(StreamState::fresh);
      state.save(dir); // proves the directory is writable before anything is trusted to it
      return new Spool(config, dir, state, null);
    } catch (IOException | RuntimeException e) {
      String problem = "spool directory " + dir + " is not usable (" + e + "); keeping at most "
          + config.memoryBatches() + " unacknowledged batches in memory only";
      log.warning(problem);
      return new Spool(config, null, StreamState.fresh(), problem);
    }
  }

  /** Opens a spool that never touches the disk, on a fresh stream. */
  public static Spool inMemory(int memoryBatches) {
    SpoolConfig config = SpoolConfig.defaults().withMemoryBatches(memoryBatches);
    return new Spool(config, null, StreamState.fresh(), null);
  }

  /** Indexes the segments left in the directory; returns how many batches they hold. */
  private int recover() {
    TreeMap<Long, Path> files = new TreeMap<>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(directory)) {
      for (Path p : dir) {
        if (p.getFileName().toString().endsWith(".spool.tmp")) {
          Files.deleteIfExists(p); // a compaction interrupted before its rename: the original is intact
        }
        OptionalLong first = SpoolSegment.firstSequenceOf(p);
        if (first.isPresent()) {
          files.put(first.getAsLong(), p);
        }
      }
    } catch (IOException e) {
      diskProblem("cannot list spool directory " + directory, e);
      return 0;
    }
    for (Map.Entry<Long, Path> f : files.entrySet()) {
      try {
        SpoolSegment.Scan scan = SpoolSegment.open(f.getValue(), f.getKey());
        corruptRecords += scan.corrupt();
        if (scan.corrupt() > 0) {
          log.warning("spool segment " + f.getValue() + ": skipped " + scan.corrupt() + " damaged or torn record(s)");
        }
        long highest = Math.max(acknowledged, index.isEmpty() ? 0 : index.lastKey());
        List<SpoolSegment.Record> records = scan.records().stream().filter(r -> r.sequence() > highest).toList();
        if (records.isEmpty()) {
          scan.segment().delete();
          continue;
        }
        segments.add(scan.segment());
        diskBytes += scan.segment().size();
        for (SpoolSegment.Record r : records) {
          index.put(r.sequence(), new DiskRecord(scan.segment(), r.offset(), r.length()));
        }
      } catch (IOException e) {
        diskProblem("cannot read spool segment " + f.getValue(), e);
      }
    }
    if (!index.isEmpty()) {
      nextSequence = Math.max(nextSequence, index.lastKey() + 1);
    }
    return index.size();
  }

  /** Returns the stream id of this spool's sequence space. */
  public String streamId() {
    return streamId;
  }

  /** Returns the configuration; its directory is where segments go unless {@link #diskBacked()} is false. */
  public SpoolConfig config() {
    return config;
  }

  /** Returns true when batches past the memory limit go to disk. */
  public synchronized boolean diskBacked() {
    return directory != null;
  }

  /**
   * Stores a batch under the next sequence, carrying the counts of samples and log lines dropped
   * with whole batches since the last append.
   *
   * @param batch the batch; any sequence set is replaced
   * @return the sequence given
   * @throws IllegalStateException when the spool is closed
   */
  public synchronized long append(TelemetryBatch batch) {
    if (closed) {
      throw new IllegalStateException("spool is closed");
    }
    long sequence = nextSequence++;
    reserve(sequence);
    TelemetryBatch.Builder b = batch.toBuilder().setSequence(sequence);
    if (pendingDroppedSamples > 0 || pendingDroppedLogLines > 0) {
      b.setDroppedSamples(b.getDroppedSamples() + pendingDroppedSamples)
          .setDroppedLogLines(b.getDroppedLogLines() + pendingDroppedLogLines);
      pendingDroppedSamples = 0;
      pendingDroppedLogLines = 0;
    }
    memory.put(sequence, b.build());
    while (memory.size() > config.memoryBatches()) {
      spill(memory.pollFirstEntry().getValue());
    }
    return sequence;
  }

  /** Returns the first unacknowledged batch after {@code sequence}, in sequence order. */
  public synchronized Optional<TelemetryBatch> next(long sequence) {
    for (Map.Entry<Long, DiskRecord> e = index.higherEntry(sequence); e != null; e = index.higherEntry(sequence)) {
      DiskRecord r = e.getValue();
      try {
        return Optional.of(r.segment().read(r.offset(), r.length()));
      } catch (IOException ex) {
        corruptRecords++;
        droppedBatches++;
        index.remove(e.getKey());
        log.warning("skipping spooled batch " + e.getKey() + ": " + ex.getMessage());
      }
    }
    return Optional.ofNullable(memory.higherEntry(sequence)).map(Map.Entry::getValue);
  }

  /** Returns every unacknowledged batch after {@code sequence}, in sequence order. */
  public synchronized List<TelemetryBatch> replayFrom(long sequence) {
    List<TelemetryBatch> out = new ArrayList<>();
    for (Optional<TelemetryBatch> b = next(sequence); b.isPresent(); b = next(b.get().getSequence())) {
      out.add(b.get());
    }
    return out;
  }

  /** Forgets every batch up to {@code sequence}; segments holding only such batches are deleted. */
  public synchronized void acknowledge(long sequence) {
    if (sequence <= acknowledged) {
      return;
    }
    acknowledged = sequence;
    memory.headMap(sequence, true).clear();
    index.headMap(sequence, true).clear();
    while (!segments.isEmpty() && segments.get(0).lastSequence() <= acknowledged) {
      removeSegment(segments.get(0));
    }
  }

  /** Returns the highest sequence acknowledged. */
  public synchronized long acknowledged() {
    return acknowledged;
  }

  /** Returns the highest sequence given so far (0 when none). */
  public synchronized long lastSequence() {
    return nextSequence - 1;
  }

  /** Returns the number of unacknowledged batches held. */
  public synchronized int size() {
    return memory.size() + index.size();
  }

  /** Returns the bytes the segment files take. */
  public synchronized long sizeBytes() {
    return diskBytes;
  }

  /** Returns a snapshot of the contents and counters. */
  public synchronized SpoolStats stats() {
    return new SpoolStats(memory.size(), index.size(), diskBytes, recoveredBatches, droppedSamples, droppedLogLines,
        droppedBatches, corruptRecords, pendingDroppedSamples, pendingDroppedLogLines, Optional.ofNullable(diskProblem));
  }

  /** Returns one line for the agent's start-up summary. */
  public synchronized String describe() {
    if (directory == null) {
      return "spool in memory only, " + config.memoryBatches() + " batches" + (diskProblem == null ? "" : " (" + diskProblem + ")");
    }
    return "spool " + directory + " (" + config.memoryBatches() + " batches in memory, disk cap " + mib(config.diskCapBytes())
        + "; " + recoveredBatches + " batches from a previous run" + (corruptRecords > 0 ? ", " + corruptRecords + " damaged records skipped" : "")
        + "; stream " + streamId + " from sequence " + nextSequence + ")";
  }

  /**
   * Writes every batch still in memory to disk (within the cap), flushes the segments and records
   * the stream's exact next sequence, so the next start replays what was not acknowledged.
   * A memory-only spool loses its batches; {@link #stats()} still says how many there were.
   * Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (directory == null) {
      return;
    }
    while (!memory.isEmpty()) {
      spill(memory.pollFirstEntry().getValue());
    }
    try {
      if (tail != null) {
        tail.seal();
      }
    } catch (IOException e) {
      diskProblem("cannot flush spool segment " + tail.path(), e);
    }
    segments.forEach(SpoolSegment::closeQuietly);
    saveState(nextSequence);
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true); // make the segment files' names durable too
    } catch (IOException | RuntimeException ignored) {
      // not supported on every platform; the files themselves were forced
    }
  }

  /** Moves one batch out of memory: to disk when it fits under the cap, else it is dropped and counted. */
  private void spill(TelemetryBatch batch) {
    if (directory == null) {
      drop(batch);
      return;
    }
    byte[] payload = batch.toByteArray();
    long need = SpoolSegment.HEADER_BYTES + payload.length;
    if (need > config.diskCapBytes()) {
      droppedSamples += batch.getGpuSamplesCount() + batch.getInfinibandSamplesCount();
      droppedLogLines += batch.getLogLinesCount();
      batch = strip(batch);
      payload = batch.toByteArray();
      need = SpoolSegment.HEADER_BYTES + payload.length;
    }
    while (diskBytes + need > config.diskCapBytes()) {
      if (!makeRoom()) {
        drop(batch);
        return;
      }
    }
    try {
      if (tail == null || tail.sealed() || (tail.size() > 0 && tail.size() + need > config.segmentBytes())) {
        rotate(batch.getSequence());
      }
      long offset = tail.append(batch, payload);
      diskBytes += need;
      index.put(batch.getSequence(), new DiskRecord(tail, offset, payload.length));
      clearDiskProblem();
    } catch (IOException e) {
      diskProblem("cannot write to spool segment " + (tail == null ? directory : tail.path()), e);
      drop(batch);
    }
  }

  private void rotate(long firstSequence) throws IOException {
    if (tail != null) {
      tail.seal();
    }
    tail = null;
    SpoolSegment s = SpoolSegment.create(directory, firstSequence);
    segments.add(s);
    tail = s;
  }

  /**
   * Frees disk space: strips the oldest segment still holding samples or log lines, else drops the
   * oldest segment.
   *
   * @return false when there is nothing left to free
   */
  private boolean makeRoom() {
    for (SpoolSegment s : segments) {
      if (!s.stripped()) {
        stripSegment(s);
        return true;
      }
    }
    if (segments.isEmpty()) {
      return false;
    }
    dropSegment(segments.get(0));
    return true;
  }

  private void stripSegment(SpoolSegment s) {
    NavigableMap<Long, DiskRecord> records = recordsOf(s);
    List<TelemetryBatch> stripped = new ArrayList<>(records.size());
    long samples = 0;
    long lines = 0;
    for (Map.Entry<Long, DiskRecord> e : records.entrySet()) {
      try {
        TelemetryBatch b = s.read(e.getValue().offset(), e.getValue().length());
        samples += b.getGpuSamplesCount() + b.getInfinibandSamplesCount();
        lines += b.getLogLinesCount();
        stripped.add(strip(b));
      } catch (IOException ex) {
        corruptRecords++;
        droppedBatches++;
      }
    }
    if (stripped.isEmpty()) {
      removeSegment(s);
      return;
    }
    try {
      if (s == tail) {
        tail.seal();
        tail = null;
      }
      long before = s.size();
      List<SpoolSegment.Record> moved = s.replaceWith(stripped);
      diskBytes -= before - s.size();
      records.clear();
      for (SpoolSegment.Record r : moved) {
        index.put(r.sequence(), new DiskRecord(s, r.offset(), r.length()));
      }
      droppedSamples += samples;
      droppedLogLines += lines;
      log.warning("spool reached its disk cap of " + mib(config.diskCapBytes()) + ": stripped samples and log lines of batches "
          + s.firstSequence() + ".." + s.lastSequence() + " (" + samples + " samples, " + lines + " log lines; events and check results kept)");
    } catch (IOException e) {
      diskProblem("cannot compact spool segment " + s.path(), e);
      s.markStripped(); // do not retry it; dropping it is the way out
    }
  }

  private void dropSegment(SpoolSegment s) {
    NavigableMap<Long, DiskRecord> records = recordsOf(s);
    int batches = records.size();
    for (Map.Entry<Long, DiskRecord> e : records.entrySet()) {
      try {
        drop(s.read(e.getValue().offset(), e.getValue().length()));
      } catch (IOException ex) {
        corruptRecords++;
        droppedBatches++;
      }
    }
    log.warning("spool reached its disk cap of " + mib(config.diskCapBytes()) + " with every spooled batch already stripped: dropped "
        + batches + " oldest batches " + s.firstSequence() + ".." + s.lastSequence() + " with their events and check results ("
        + droppedBatches + " batches dropped so far)");
    removeSegment(s);
  }

  private void removeSegment(SpoolSegment s) {
    recordsOf(s).clear();
    segments.remove(s);
    if (s == tail) {
      tail = null;
    }
    diskBytes -= s.size();
    try {
      s.delete();
    } catch (IOException e) {
      diskProblem("cannot delete spool segment " + s.path(), e);
    }
  }

  private NavigableMap<Long, DiskRecord> recordsOf(SpoolSegment s) {
    if (s.lastSequence() < s.firstSequence()) {
      return new TreeMap<>(); // a segment created but never written to
    }
    return index.subMap(s.firstSequence(), true, s.lastSequence(), true);
  }

  /** Returns {@code b} without samples and log lines, reporting them in its own dropped counts. */
  private static TelemetryBatch strip(TelemetryBatch b) {
    int samples = b.getGpuSamplesCount() + b.getInfinibandSamplesCount();
    int lines = b.getLogLinesCount();
    return b.toBuilder().clearGpuSamples().clearInfinibandSamples().clearLogLines()
        .setDroppedSamples(b.getDroppedSamples() + samples)
        .setDroppedLogLines(b.getDroppedLogLines() + lines)
        .build();
  }

  /** Counts a whole batch as dropped; what it carried is reported by the next batch appended. */
  private void drop(TelemetryBatch b) {
    int samples = b.getGpuSamplesCount() + b.getInfinibandSamplesCount();
    droppedBatches++;
    droppedSamples += samples;
    droppedLogLines += b.getLogLinesCount();
    pendingDroppedSamples += samples + b.getDroppedSamples();
    pendingDroppedLogLines += b.getLogLinesCount() + b.getDroppedLogLines();
    if (directory == null) {
      log.warning("spool full (" + config.memoryBatches() + " batches in memory, no disk): dropped batch " + b.getSequence()
          + " (" + droppedBatches + " dropped so far)");
    }
  }

  private void reserve(long sequence) {
    if (directory != null && sequence > reservedUpTo) {
      saveState(sequence + SEQUENCE_RESERVATION);
    }
  }

  private void saveState(long next) {
    try {
      new StreamState(streamId, next, acknowledged, pendingDroppedSamples, pendingDroppedLogLines).save(directory);
      reservedUpTo = next - 1;
    } catch (IOException e) {
      diskProblem("cannot write " + directory.resolve(StreamState.FILE_NAME), e);
      reservedUpTo = Math.max(reservedUpTo, next - 1); // do not retry on every batch
    }
  }

  private void diskProblem(String what, Exception e) {
    String problem = what + ": " + e;
    if (!problem.equals(diskProblem)) {
      log.warning(problem + " (spool keeps working; batches that cannot be written are dropped and counted)");
    }
    diskProblem = problem;
  }

  private void clearDiskProblem() {
    if (diskProblem != null && directory != null) {
      log.info("spool directory " + directory + " is writable again");
      diskProblem = null;
    }
  }

  private static String mib(long bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }
}
