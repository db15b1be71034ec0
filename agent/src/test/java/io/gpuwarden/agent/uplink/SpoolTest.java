package io.gpuwarden.agent.uplink;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
  private static final int GPUS = 8;
  private static final int PORTS = 2;
  private static final int LINES = 3;

  @TempDir
  Path tmp;

  /** A batch like the agent's: eight GPU samples, two ports, three log lines, one event, one check result. */
  static TelemetryBatch batch(int n) {
    return batch(n, "");
  }

  /** A batch whose event carries {@code detail}, to make what survives stripping larger. */
  static TelemetryBatch batch(int n, String detail) {
    TelemetryBatch.Builder b = TelemetryBatch.newBuilder();
    for (int g = 0; g < GPUS; g++) {
      b.addGpuSamples(GpuSample.newBuilder().setGpuUuid("GPU-" + n + "-" + g + "-" + "x".repeat(80)).setIndex(g));
    }
    for (int p = 1; p <= PORTS; p++) {
      b.addInfinibandSamples(InfinibandPortSample.newBuilder().setHca("mlx5_" + n).setPort(p));
    }
    for (int l = 0; l < LINES; l++) {
      b.addLogLines(LogLine.newBuilder().setSequence(n * 10L + l));
    }
    return b.addEvents(Event.newBuilder().setId("event-" + n + detail))
        .addCheckResults(CheckResult.newBuilder().setCheck("check-" + n).setState(HealthState.HEALTH_STATE_HEALTHY))
        .build();
  }

  private static List<Long> sequences(List<TelemetryBatch> batches) {
    return batches.stream().map(TelemetryBatch::getSequence).toList();
  }

  private static List<Long> range(long from, long to) {
    return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
  }

  private SpoolConfig config(int memoryBatches) {
    return SpoolConfig.defaults().withDirectory(tmp.resolve("spool")).withMemoryBatches(memoryBatches);
  }

  private List<Path> segmentFiles() throws IOException {
    try (Stream<Path> s = Files.list(tmp.resolve("spool"))) {
      return s.filter(p -> p.toString().endsWith(".spool")).sorted().toList();
    }
  }

  private long segmentBytesOnDisk() throws IOException {
    long total = 0;
    for (Path p : segmentFiles()) {
      total += Files.size(p);
    }
    return total;
  }

  @Test
  void appendsGetConsecutiveSequencesAndReplayInOrderFromAnyPoint() {
    try (Spool spool = Spool.open(config(600))) {
      for (int i = 1; i <= 10; i++) {
        assertThat(spool.append(batch(i))).isEqualTo(i);
      }
      assertThat(sequences(spool.replayFrom(0))).isEqualTo(range(1, 10));
      assertThat(sequences(spool.replayFrom(7))).isEqualTo(range(8, 10));
      assertThat(spool.next(10)).isEmpty();
      assertThat(spool.replayFrom(3).get(0).getEvents(0).getId()).isEqualTo("event-4");
    }
  }

  @Test
  void batchesPastTheMemoryLimitOverflowToDiskAndReplayFromBothInOrder() throws IOException {
    try (Spool spool = Spool.open(config(5).withSegmentBytes(4096))) {
      for (int i = 1; i <= 50; i++) {
        spool.append(batch(i));
      }
      assertThat(spool.stats().memoryBatches()).isEqualTo(5);
      assertThat(spool.stats().diskBatches()).isEqualTo(45);
      assertThat(segmentFiles()).hasSizeGreaterThan(1);
      assertThat(spool.sizeBytes()).isEqualTo(segmentBytesOnDisk());
      List<TelemetryBatch> replay = spool.replayFrom(0);
      assertThat(sequences(replay)).isEqualTo(range(1, 50));
      assertThat(replay.get(0).getGpuSamplesCount()).isEqualTo(GPUS);
      assertThat(sequences(spool.replayFrom(44))).isEqualTo(range(45, 50));
    }
  }

  @Test
  void acknowledgingDeletesSegmentsOnceAllTheirBatchesAreAcknowledged() throws IOException {
    try (Spool spool = Spool.open(config(5).withSegmentBytes(4096))) {
      for (int i = 1; i <= 50; i++) {
        spool.append(batch(i));
      }
      int before = segmentFiles().size();
      spool.acknowledge(30);
      assertThat(segmentFiles()).hasSizeLessThan(before);
      for (Path p : segmentFiles()) {
        // every remaining segment still holds an unacknowledged batch
        assertThat(SpoolSegment.open(p, SpoolSegment.firstSequenceOf(p).getAsLong()).segment().lastSequence()).isGreaterThan(30);
      }
      assertThat(sequences(spool.replayFrom(0))).isEqualTo(range(31, 50));
      assertThat(spool.size()).isEqualTo(20);
      spool.acknowledge(50);
      assertThat(spool.size()).isZero();
      assertThat(segmentFiles()).isEmpty();
      assertThat(spool.sizeBytes()).isZero();
    }
  }

  @Test
  void reopeningAfterCloseReturnsTheSameUnacknowledgedBatchesOnTheSameStream() {
    String streamId;
    List<TelemetryBatch> unacked;
    try (Spool spool = Spool.open(config(20).withSegmentBytes(4096))) {
      streamId = spool.streamId();
      for (int i = 1; i <= 50; i++) {
        spool.append(batch(i));
      }
      spool.acknowledge(10);
      unacked = spool.replayFrom(0);
    }
    try (Spool reopened = Spool.open(config(20).withSegmentBytes(4096))) {
      assertThat(reopened.streamId()).isEqualTo(streamId);
      assertThat(reopened.stats().recoveredBatches()).isEqualTo(40);
      assertThat(reopened.replayFrom(0)).isEqualTo(unacked);
      assertThat(reopened.append(batch(51))).isEqualTo(51);
      assertThat(reopened.describe()).contains("40 batches from a previous run");
    }
  }

  @Test
  void aRestartAfterACrashSkipsSequencesButNeverReusesOne() {
    Spool crashed = Spool.open(config(600));
    for (int i = 1; i <= 5; i++) {
      crashed.append(batch(i)); // in memory only: lost with the process, but the collector may have applied them
    }
    try (Spool restarted = Spool.open(config(600))) {
      assertThat(restarted.streamId()).isEqualTo(crashed.streamId());
      assertThat(restarted.append(batch(6))).isGreaterThan(5);
    }
  }

  @Test
  void aTornTailAndACorruptRecordAreSkippedAndCountedNotFatal() throws IOException {
    try (Spool spool = Spool.open(config(1).withSegmentBytes(1 << 20))) {
      for (int i = 1; i <= 20; i++) {
        spool.append(batch(i));
      }
    }
    Path segment = segmentFiles().get(0);
    try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
      f.setLength(f.length() - 5); // the last record (20) is torn, as by a crash mid-write
      f.seek(SpoolSegment.HEADER_BYTES + 10); // a bit flip inside the payload of record 1
      int b = f.read();
      f.seek(SpoolSegment.HEADER_BYTES + 10);
      f.write(b ^ 0x40);
    }
    try (Spool reopened = Spool.open(config(1))) {
      assertThat(reopened.stats().corruptRecords()).isEqualTo(2);
      assertThat(sequences(reopened.replayFrom(0))).isEqualTo(range(2, 19));
      assertThat(reopened.append(batch(21))).isEqualTo(21);
    }
  }

  @Test
  void atTheDiskCapTheOldestBatchesLoseTheirSamplesFirstWithExactCounts() throws IOException {
    long cap = 64 * 1024;
    SpoolConfig config = config(1).withSegmentBytes(8 * 1024).withDiskCapBytes(cap);
    try (Spool spool = Spool.open(config)) {
      int n = 0;
      while (spool.stats().droppedSamples() == 0) {
        spool.append(batch(++n));
        assertThat(spool.sizeBytes()).isLessThanOrEqualTo(cap);
      }
      List<TelemetryBatch> replay = spool.replayFrom(0);
      assertThat(spool.stats().droppedBatches()).isZero();
      assertThat(sequences(replay)).isEqualTo(range(1, n));
      // The oldest segment was stripped: its batches keep sequence, event and check result.
      TelemetryBatch oldest = replay.get(0);
      assertThat(oldest.getGpuSamplesCount() + oldest.getInfinibandSamplesCount() + oldest.getLogLinesCount()).isZero();
      assertThat(oldest.getDroppedSamples()).isEqualTo(GPUS + PORTS);
      assertThat(oldest.getDroppedLogLines()).isEqualTo(LINES);
      assertThat(oldest.getEvents(0).getId()).isEqualTo("event-1");
      assertThat(oldest.getCheckResults(0).getCheck()).isEqualTo("check-1");
      // The newest still have theirs, and the counts add up exactly.
      assertThat(replay.get(replay.size() - 1).getGpuSamplesCount()).isEqualTo(GPUS);
      long stripped = replay.stream().filter(b -> b.getGpuSamplesCount() == 0).count();
      assertThat(spool.stats().droppedSamples()).isEqualTo(stripped * (GPUS + PORTS));
      assertThat(spool.stats().droppedLogLines()).isEqualTo(stripped * LINES);
      assertThat(replay.stream().mapToLong(TelemetryBatch::getDroppedSamples).sum()).isEqualTo(spool.stats().droppedSamples());
      assertThat(segmentBytesOnDisk()).isLessThanOrEqualTo(cap + config.segmentBytes());
    }
  }

  @Test
  void onlyWhenEveryBatchOnDiskIsStrippedAreWholeOldestBatchesDroppedAndCounted() throws IOException {
    long cap = 16 * 1024;
    SpoolConfig config = config(4).withSegmentBytes(4096).withDiskCapBytes(cap);
    String detail = "d".repeat(400); // stripped batches stay large, so the cap is reached in few segments
    try (Spool spool = Spool.open(config)) {
      int n = 0;
      while (spool.stats().droppedBatches() == 0) {
        spool.append(batch(++n, detail));
        assertThat(spool.sizeBytes()).isLessThanOrEqualTo(cap);
        assertThat(segmentBytesOnDisk()).isLessThanOrEqualTo(cap + config.segmentBytes());
      }
      for (int i = 0; i < 40; i++) {
        spool.append(batch(++n, detail));
        assertThat(spool.sizeBytes()).isLessThanOrEqualTo(cap);
      }
      SpoolStats stats = spool.stats();
      List<TelemetryBatch> replay = spool.replayFrom(0);
      // Whole batches went oldest first: what is left is a contiguous run up to the newest.
      assertThat(sequences(replay)).isEqualTo(range(n - replay.size() + 1, n));
      assertThat(stats.droppedBatches()).isEqualTo(n - replay.size());
      // Every batch left still has its event and check result; samples survive only in the newest.
      assertThat(replay).allSatisfy(b -> {
        assertThat(b.getEventsCount()).isEqualTo(1);
        assertThat(b.getCheckResultsCount()).isEqualTo(1);
      });
      List<Integer> samples = replay.stream().map(TelemetryBatch::getGpuSamplesCount).toList();
      assertThat(samples).isSortedAccordingTo(Integer::compare);
      assertThat(samples.get(0)).isZero();
      // No sample goes missing uncounted: each is in a batch, reported by one, or about to be.
      long produced = (long) n * (GPUS + PORTS);
      long held = replay.stream().mapToLong(b -> b.getGpuSamplesCount() + b.getInfinibandSamplesCount()).sum();
      long reported = replay.stream().mapToLong(TelemetryBatch::getDroppedSamples).sum();
      assertThat(held + reported + stats.unreportedDroppedSamples()).isEqualTo(produced);
      long lines = replay.stream().mapToLong(b -> b.getLogLinesCount() + b.getDroppedLogLines()).sum();
      assertThat(lines + stats.unreportedDroppedLogLines()).isEqualTo((long) n * LINES);
      assertThat(stats.droppedSamples()).isEqualTo(produced - held);
    }
  }

  @Test
  void anUnusableDirectoryLeavesAMemoryOnlySpoolThatSaysSoAndDropsCounted() throws IOException {
    Path notADirectory = tmp.resolve("file");
    Files.writeString(notADirectory, "x");
    try (Spool spool = Spool.open(SpoolConfig.defaults().withDirectory(notADirectory.resolve("spool")).withMemoryBatches(3))) {
      assertThat(spool.diskBacked()).isFalse();
      assertThat(spool.stats().diskProblem()).hasValueSatisfying(p -> assertThat(p).contains(notADirectory.toString()));
      assertThat(spool.describe()).contains("memory only");
      for (int i = 1; i <= 5; i++) {
        spool.append(batch(i));
      }
      assertThat(sequences(spool.replayFrom(0))).isEqualTo(range(3, 5));
      assertThat(spool.stats().droppedBatches()).isEqualTo(2);
      // Each dropped batch's samples and log lines are reported by the next batch appended.
      assertThat(spool.append(batch(6))).isEqualTo(6);
      assertThat(spool.replayFrom(4)).hasSize(2).allSatisfy(b -> {
        assertThat(b.getDroppedSamples()).isEqualTo(GPUS + PORTS);
        assertThat(b.getDroppedLogLines()).isEqualTo(LINES);
      });
    }
  }
}
