package io.gpuwarden.collector;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock tests move by hand. */
public final class MutableClock extends Clock {
  private volatile Instant now;

  /** Starts at {@code start}. */
  public MutableClock(Instant start) {
    this.now = start;
  }

  /** Starts at {@code start}. */
  public static MutableClock at(Instant start) {
    return new MutableClock(start);
  }

  /** Returns the current time. */
  public Instant get() {
    return now;
  }

  /** Sets the time. */
  public void set(Instant instant) {
    now = instant;
  }

  /** Moves the clock forward. */
  public void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("tests use UTC");
  }
}
