package io.gpuwarden.agent.source;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Converts between {@link Instant} and protobuf {@link Timestamp}. */
public final class ProtoTime {
  private ProtoTime() {}

  /** Returns {@code instant} as a protobuf timestamp. */
  public static Timestamp of(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
