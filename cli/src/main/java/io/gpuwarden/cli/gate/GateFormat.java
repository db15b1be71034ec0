package io.gpuwarden.cli.gate;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import java.time.Instant;

/** Words as the gate commands print them ({@code LOCKED}, {@code APPLIED}), and protobuf time conversions. */
final class GateFormat {
  private GateFormat() {}

  /** Returns the state without its prefix, e.g. {@code LOCKED}; {@code -} when unset. */
  static String state(GateState s) {
    return s == GateState.GATE_STATE_UNSPECIFIED ? "-" : s.name().replace("GATE_STATE_", "");
  }

  /** Returns the outcome without its prefix, e.g. {@code REFUSED}. */
  static String outcome(NodeActionOutcome o) {
    return o.name().replace("NODE_ACTION_OUTCOME_", "");
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
