package io.gpuwarden.agent.source.kmsg;

/**
 * A snapshot of a {@link KmsgReader}'s counters.
 *
 * @param records records parsed and queued (including those later dropped)
 * @param dropped records dropped because the consumer fell behind (the queue was full)
 * @param gaps times the sequence jumped forward (the kernel overwrote records before they were read)
 * @param missedRecords records lost in those jumps, summed
 * @param brokenPipes reads of {@code /dev/kmsg} that failed with EPIPE (records overwritten mid-read)
 * @param malformed records that could not be parsed and were skipped
 * @param skippedOnResume records at or below the resume sequence, skipped
 * @param lastSequence sequence of the last record read; -1 when none
 * @param lastError the last parse or read error; empty when none
 */
public record KmsgStats(long records, long dropped, long gaps, long missedRecords, long brokenPipes, long malformed,
    long skippedOnResume, long lastSequence, String lastError) {}
