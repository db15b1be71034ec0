package io.gpuwarden.collector.gate;

import com.google.protobuf.Timestamp;
import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** How the gate writes states, durations, times and reasons in its messages and history. */
final class GateText {
  private GateText() {}

  /** {@code SERVING} for GATE_STATE_SERVING. */
  static String word(GateState s) {
    return s.name().replace("GATE_STATE_", "");
  }

  /** {@code HEALTHY} for HEALTH_STATE_HEALTHY. */
  static String word(HealthState s) {
    return s.name().replace("HEALTH_STATE_", "");
  }

  /** ISO-8601 UTC to the second, e.g. {@code 2026-12-03T14:00:00Z}. */
  static String iso(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  /** ISO-8601 UTC to the second. */
  static String iso(Timestamp t) {
    return iso(ProtoTime.instant(t));
  }

  /** {@code 12.5s}, {@code 4m30s}, {@code 2h5m}. */
  static String human(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1fs", Math.max(0, d.toMillis()) / 1000.0);
    }
    if (s < 3600) {
      return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
    }
    return (s / 3600) + "h" + ((s % 3600) / 60 == 0 ? "" : ((s % 3600) / 60) + "m");
  }

  /** The first reason of the node's verdict, with how many more there are. */
  static String firstReason(NodeSummary n) {
    if (n == null || !n.hasVerdict() || n.getVerdict().getReasonsCount() == 0) {
      return "no reason given";
    }
    Verdict v = n.getVerdict();
    return v.getReasons(0).getMessage() + (v.getReasonsCount() > 1 ? " (+" + (v.getReasonsCount() - 1) + " more)" : "");
  }
}
