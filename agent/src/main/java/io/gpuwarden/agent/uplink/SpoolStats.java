package io.gpuwarden.agent.uplink;

import java.util.Optional;

/**
 * A snapshot of a {@link Spool}'s contents and counters.
 *
 * @param memoryBatches unacknowledged batches held in memory
 * @param diskBatches unacknowledged batches held in segment files
 * @param diskBytes bytes the segment files take
 * @param recoveredBatches batches found on disk when the spool was opened (left by a previous run)
 * @param droppedSamples GPU and InfiniBand samples dropped to honour the disk cap (stripped or with
 *     their batch)
 * @param droppedLogLines log lines dropped to honour the disk cap
 * @param droppedBatches whole batches dropped (their events and check results with them)
 * @param corruptRecords damaged or torn records found in segment files and skipped
 * @param unreportedDroppedSamples samples of dropped batches that the next appended batch will report
 * @param unreportedDroppedLogLines log lines of dropped batches that the next appended batch will report
 * @param diskProblem why the spool is (or was last) unable to use its directory; empty when healthy
 */
public record SpoolStats(
    int memoryBatches,
    int diskBatches,
    long diskBytes,
    int recoveredBatches,
    long droppedSamples,
    long droppedLogLines,
    long droppedBatches,
    long corruptRecords,
    long unreportedDroppedSamples,
    long unreportedDroppedLogLines,
    Optional<String> diskProblem) {

  /** Returns every unacknowledged batch held. */
  public int batches() {
    return memoryBatches + diskBatches;
  }
}
