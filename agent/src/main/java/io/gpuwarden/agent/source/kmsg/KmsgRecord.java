package io.gpuwarden.agent.source.kmsg;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * One record of the kernel ring buffer as {@code /dev/kmsg} returns it.
 *
 * @param priority syslog level, 0 (emerg) to 7 (debug)
 * @param facility syslog facility (0 = kernel)
 * @param sequence the record's sequence number; a jump means records were overwritten
 * @param monotonicMicros microseconds since boot (CLOCK_MONOTONIC) when it was logged
 * @param continuation the record was flagged as a continuation ({@code c}) or split ({@code +})
 * @param message the text, {@code \xNN} escapes decoded
 * @param dictionary the continuation lines' {@code KEY=value} pairs, e.g. {@code SUBSYSTEM=pci}
 */
public record KmsgRecord(int priority, int facility, long sequence, long monotonicMicros, boolean continuation,
    String message, Map<String, String> dictionary) {
  /** Validates and copies. */
  public KmsgRecord {
    requireNonNull(message, "message");
    dictionary = Map.copyOf(requireNonNull(dictionary, "dictionary"));
    if (priority < 0 || priority > 7) {
      throw new IllegalArgumentException("priority must be 0..7, got " + priority);
    }
  }

  /** Returns the wall time of the record given when the machine booted ({@code bootTime + monotonicMicros}). */
  public Instant wallTime(Instant bootTime) {
    return bootTime.plus(monotonicMicros, ChronoUnit.MICROS);
  }
}
