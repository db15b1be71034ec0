package io.gpuwarden.agent.source.infiniband;

/**
 * How much an InfiniBand port counter grew between two readings, honest about what the readings
 * can prove. The narrow PortCounters error fields saturate at all-ones instead of wrapping, so a
 * counter that ends at its maximum may have grown by more than the difference; and a counter that
 * went down was cleared (perfquery -R, driver reload, HCA reset), so no negative delta exists.
 *
 * <pre>{@code
 * CounterDelta d = CounterDelta.between("symbol_error", 65530, 65535); // AT_LEAST 5
 * }</pre>
 *
 * @param kind whether {@code increase} is exact or a lower bound, and why
 * @param increase the growth: exact for {@link Kind#EXACT}, a lower bound otherwise
 */
public record CounterDelta(Kind kind, long increase) {
  /** What {@link #increase} means. */
  public enum Kind {
    /** The counter grew by exactly {@code increase}. */
    EXACT,
    /** The counter now sits at its maximum: it grew by {@code increase} or more (0 when it was already there). */
    AT_LEAST,
    /** The counter went down (it was cleared): at least {@code increase}, its current value, since the reset. */
    RESET
  }

  /** Validates. */
  public CounterDelta {
    java.util.Objects.requireNonNull(kind, "kind");
    if (increase < 0) {
      throw new IllegalArgumentException("a counter delta is never negative, got " + increase);
    }
  }

  /**
   * Returns the growth of counter {@code name} (its file name in {@code counters/}) from
   * {@code previous} to {@code current}, both raw values as read (unsigned 64-bit in a long).
   * Data counters must be compared in the same unit in both readings.
   */
  public static CounterDelta between(String name, long previous, long current) {
    if (Long.compareUnsigned(current, previous) < 0) {
      return new CounterDelta(Kind.RESET, clamp(current));
    }
    long grown = clamp(current - previous);
    return InfinibandFormats.saturated(name, current) ? new CounterDelta(Kind.AT_LEAST, grown) : new CounterDelta(Kind.EXACT, grown);
  }

  /** Returns true when {@link #increase} is the exact growth, not a lower bound. */
  public boolean exact() {
    return kind == Kind.EXACT;
  }

  // A 64-bit counter past 2^63 would read negative; cap it rather than invent a negative delta.
  private static long clamp(long unsigned) {
    return unsigned < 0 ? Long.MAX_VALUE : unsigned;
  }
}
