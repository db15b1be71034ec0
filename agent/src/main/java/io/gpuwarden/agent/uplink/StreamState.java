package io.gpuwarden.agent.uplink;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * The identity of the spool's sequence space, kept beside the segments in {@code stream.properties}
 * so a restarted agent continues the same stream: the collector then resumes it where it stopped.
 *
 * @param streamId the stream id sent in every hello
 * @param nextSequence the first sequence the next process may give; while the agent runs it is a
 *     reservation ahead of the sequences handed out, so a crash skips numbers (a gap the collector
 *     counts) but never reuses one the collector already applied
 * @param acknowledged the highest sequence the collector acknowledged; spooled batches up to it are
 *     not replayed
 * @param pendingDroppedSamples samples of dropped batches not yet reported in a batch
 * @param pendingDroppedLogLines log lines of dropped batches not yet reported in a batch
 */
record StreamState(String streamId, long nextSequence, long acknowledged, long pendingDroppedSamples, long pendingDroppedLogLines) {
  static final String FILE_NAME = "stream.properties";

  /** Returns a new stream starting at sequence 1. */
  static StreamState fresh() {
    return new StreamState(UUID.randomUUID().toString(), 1, 0, 0, 0);
  }

  /** Reads the state in {@code directory}; empty when there is none. */
  static Optional<StreamState> load(Path directory) throws IOException {
    Path file = directory.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    String id = p.getProperty("stream.id", "");
    if (id.isBlank()) {
      throw new IOException(file + " has no stream.id");
    }
    try {
      return Optional.of(new StreamState(id, Long.parseLong(p.getProperty("next.sequence", "1")),
          Long.parseLong(p.getProperty("acknowledged.sequence", "0")),
          Long.parseLong(p.getProperty("pending.dropped.samples", "0")),
          Long.parseLong(p.getProperty("pending.dropped.log.lines", "0"))));
    } catch (NumberFormatException e) {
      throw new IOException(file + " is damaged: " + e.getMessage(), e);
    }
  }

  /** Writes the state atomically (temporary file, fsync, rename). */
  void save(Path directory) throws IOException {
    Path file = directory.resolve(FILE_NAME);
    Path tmp = directory.resolve(FILE_NAME + ".tmp");
    Properties p = new Properties();
    p.setProperty("stream.id", streamId);
    p.setProperty("next.sequence", Long.toString(nextSequence));
    p.setProperty("acknowledged.sequence", Long.toString(acknowledged));
    p.setProperty("pending.dropped.samples", Long.toString(pendingDroppedSamples));
    p.setProperty("pending.dropped.log.lines", Long.toString(pendingDroppedLogLines));
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "gpuwarden agent uplink stream; written by the agent, do not edit while it runs");
    }
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
