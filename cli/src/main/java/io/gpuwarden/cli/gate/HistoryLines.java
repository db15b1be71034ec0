package io.gpuwarden.cli.gate;

import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.Verdict;
import java.util.List;

/**
 * Renders a node's history, one line per entry, oldest first:
 *
 * <pre>
 * 2024-05-01 10:00:00  transition  SERVING -> LOCKED by alice: swap PSU (lock)
 * 2024-05-01 10:20:13  verdict     UNHEALTHY: Xid 79 on GPU 2 (+1 more)
 * 2024-05-01 10:20:13  event       Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2
 * </pre>
 */
final class HistoryLines {
  private static final int TIME_WIDTH = "yyyy-MM-dd HH:mm:ss".length();
  private static final int KIND_WIDTH = "transition".length();

  private HistoryLines() {}

  /** Renders every entry. */
  static String render(List<HistoryEntry> entries) {
    StringBuilder s = new StringBuilder();
    entries.forEach(e -> s.append(line(e)).append('\n'));
    return s.toString();
  }

  /** Renders one entry: UTC time, kind, text. */
  static String line(HistoryEntry e) {
    return (pad(GateFormat.time(e.getTime()), TIME_WIDTH) + "  " + pad(kind(e), KIND_WIDTH) + "  " + text(e)).stripTrailing();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }

  /** Returns {@code transition}, {@code verdict}, {@code event}, or {@code unknown} for an entry this client cannot read. */
  static String kind(HistoryEntry e) {
    return switch (e.getEntryCase()) {
      case TRANSITION -> "transition";
      case VERDICT -> "verdict";
      case EVENT -> "event";
      case ENTRY_NOT_SET -> "unknown";
    };
  }

  /** Returns the entry's text. */
  static String text(HistoryEntry e) {
    return switch (e.getEntryCase()) {
      case TRANSITION -> transition(e.getTransition());
      case VERDICT -> verdict(e.getVerdict());
      case EVENT -> e.getEvent().getMessage();
      case ENTRY_NOT_SET -> "";
    };
  }

  /** {@code SERVING -> LOCKED by alice: swap PSU (lock)}. */
  static String transition(GateTransition t) {
    StringBuilder s = new StringBuilder()
        .append(GateFormat.state(t.getFromState())).append(" -> ").append(GateFormat.state(t.getToState()));
    if (!t.getActor().isEmpty()) {
      s.append(" by ").append(t.getActor());
    }
    if (!t.getReason().isEmpty()) {
      s.append(": ").append(t.getReason());
    }
    if (!t.getAction().isEmpty()) {
      s.append(" (").append(t.getAction()).append(')');
    }
    return s.toString();
  }

  /** {@code HEALTHY}, or {@code UNHEALTHY: <first reason> (+N more)}. */
  static String verdict(Verdict v) {
    String state = v.getState().name().replace("HEALTH_STATE_", "");
    if (v.getReasonsCount() == 0) {
      return state;
    }
    String first = state + ": " + v.getReasons(0).getMessage();
    return v.getReasonsCount() == 1 ? first : first + " (+" + (v.getReasonsCount() - 1) + " more)";
  }
}
