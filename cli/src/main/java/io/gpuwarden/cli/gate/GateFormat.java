package io.gpuwarden.cli.gate;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Words and times as the gate commands print them: {@code LOCKED}, {@code APPLIED}, {@code 2024-05-01 10:00:00}. */
final class GateFormat {
  /** Times are printed in UTC so that operators in different zones read the same text. */
  static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private GateFormat() {}

  /** Returns the state without its prefix, e.g. {@code LOCKED}; {@code -} when unset. */
  static String state(GateState s) {
    return s == GateState.GATE_STATE_UNSPECIFIED ? "-" : s.name().replace("GATE_STATE_", "");
  }

  /** Returns the outcome without its prefix, e.g. {@code REFUSED}. */
  static String outcome(NodeActionOutcome o) {
    return o.name().replace("NODE_ACTION_OUTCOME_", "");
  }

  /** Returns {@code t} as {@code yyyy-MM-dd HH:mm:ss} in UTC, or {@code -} when unset. */
  static String time(Timestamp t) {
    return t.getSeconds() == 0 && t.getNanos() == 0 ? "-" : TIME.format(instant(t));
  }

  /** Returns {@code d} in the largest whole unit: {@code 1d}, {@code 2h}, {@code 10m}, {@code 30s}, {@code 1500ms}. */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 86_400_000 == 0) {
      return ms / 86_400_000 + "d";
    }
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    return ms % 1_000 == 0 ? ms / 1_000 + "s" : ms + "ms";
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
