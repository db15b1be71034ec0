package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.Verdict;
import java.util.List;

/**
 * Renders a node's history, one line per entry, oldest first, times ISO-8601 UTC:
 *
 * <pre>
 * 2024-05-01T10:00:00Z  transition  SERVING -> LOCKED by alice: swap PSU (lock)
 * 2024-05-01T10:05:00Z  transition  hold: waiting for the RMA (by alice)
 * 2024-05-01T10:20:13Z  verdict     UNHEALTHY: Xid 79 on GPU 2 (+1 more)
 * 2024-05-01T10:20:13Z  event       Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2
 * </pre>
 */
final class HistoryLines {
  private static final int KIND_WIDTH = "transition".length();
  /** What the collector records as the reason of an unhold without a note. */
  private static final String HOLD_LIFTED = "hold lifted";

  private HistoryLines() {}

  /** Renders every entry, times as {@code times} shows them, aligned. */
  static String render(List<HistoryEntry> entries, Times times) {
    int timeWidth = entries.stream().mapToInt(e -> times.format(e.getTime()).length()).max().orElse(0);
    StringBuilder s = new StringBuilder();
    entries.forEach(e -> s.append(line(e, times, timeWidth)).append('\n'));
    return s.toString();
  }

  /** Renders one entry with its time in UTC. */
  static String line(HistoryEntry e) {
    Times utc = Times.utc();
    return line(e, utc, utc.format(e.getTime()).length());
  }

  private static String line(HistoryEntry e, Times times, int timeWidth) {
    return (pad(times.format(e.getTime()), timeWidth) + "  " + pad(kind(e), KIND_WIDTH) + "  " + times.annotate(text(e)))
        .stripTrailing();
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

  /**
   * {@code SERVING -> LOCKED by alice: swap PSU (lock)} for a change of state; an action that leaves the state as it
   * was says what it did: {@code hold: RMA 42 (by alice)}, {@code hold lifted: parts arrived (by alice)}.
   */
  static String transition(GateTransition t) {
    if (t.getFromState() == t.getToState() && !t.getAction().isEmpty()) {
      return sameState(t);
    }
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

  private static String sameState(GateTransition t) {
    String what = switch (t.getAction()) {
      case "unhold" -> HOLD_LIFTED;
      default -> t.getAction();
    };
    StringBuilder s = new StringBuilder(what);
    if (!t.getReason().isEmpty() && !t.getReason().equals(what)) {
      s.append(": ").append(t.getReason());
    }
    if (!t.getActor().isEmpty()) {
      s.append(" (by ").append(t.getActor()).append(')');
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
