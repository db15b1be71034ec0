package io.gpuwarden.cli;

import io.gpuwarden.common.Severity;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/** Renders the fleet as the {@code nodes} table: one row per node. */
public final class FleetTable {
  private FleetTable() {}

  /** Renders {@code nodes} as seen at {@code now}. */
  public static String render(List<Node> nodes, Instant now) {
    TextTable t = new TextTable("NODE", "POOL", "GPUS", "LAST SEEN", "HOTTEST °C", "POWER W", "UTIL %", "VERDICT", "GATE",
        "ACTION", "REASON")
        .rightAlign(2, 4, 5, 6);
    for (Node n : nodes) {
      List<GpuSample> samples = n.getGpuSamplesList();
      OptionalInt hottest = samples.stream().filter(GpuSample::hasTemperatureCelsius)
          .mapToInt(GpuSample::getTemperatureCelsius).max();
      long powerMw = samples.stream().filter(GpuSample::hasPowerMilliwatts).mapToLong(GpuSample::getPowerMilliwatts).sum();
      double util = samples.stream().filter(GpuSample::hasUtilizationGpuPercent)
          .mapToInt(GpuSample::getUtilizationGpuPercent).average().orElse(Double.NaN);
      boolean anyPower = samples.stream().anyMatch(GpuSample::hasPowerMilliwatts);
      t.row(n.getNodeId(),
          n.getPool(),
          Integer.toString(n.getInventory().getGpusCount()),
          lastSeen(n, now),
          hottest.isPresent() ? Integer.toString(hottest.getAsInt()) : "-",
          anyPower ? Long.toString(Math.round(powerMw / 1000.0)) : "-",
          Double.isNaN(util) ? "-" : String.format(Locale.ROOT, "%.0f", util),
          verdict(n),
          gate(n),
          action(n),
          reason(n));
    }
    return t.render();
  }

  /** Returns the gate state, with {@code held} and {@code no-alloc} marks: {@code SERVING}, {@code VERIFYING,held}, or {@code -}. */
  public static String gate(Node n) {
    if (!n.hasGate()) {
      return "-";
    }
    StringBuilder s = new StringBuilder(n.getGate().getState().name().replace("GATE_STATE_", ""));
    if (n.getGate().getHeld()) {
      s.append(",held");
    }
    if (n.getGate().getState() == io.gpuwarden.proto.v1.GateState.GATE_STATE_SERVING && !n.getGate().getAllocatable()) {
      s.append(",no-alloc");
    }
    return s.toString();
  }

  /** Returns the most urgent suggested action of the node's verdict, e.g. {@code reboot-node}, or {@code -}. */
  public static String action(Node n) {
    SuggestedAction best = SuggestedAction.SUGGESTED_ACTION_NONE;
    for (Reason r : n.getVerdict().getReasonsList()) {
      if (Severity.urgency(r.getAction()) > Severity.urgency(best)) {
        best = r.getAction();
      }
    }
    return best == SuggestedAction.SUGGESTED_ACTION_NONE ? "-" : actionName(best);
  }

  /** Returns an action as a short word, e.g. {@code reboot-node}. */
  public static String actionName(SuggestedAction a) {
    return a.name().replace("SUGGESTED_ACTION_", "").toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Returns the first reason of the verdict, shortened, with a count of the others. */
  public static String reason(Node n) {
    List<Reason> reasons = n.getVerdict().getReasonsList();
    if (reasons.isEmpty()) {
      return "";
    }
    String first = reasons.get(0).getMessage();
    if (first.length() > 70) {
      first = first.substring(0, 67) + "...";
    }
    return reasons.size() == 1 ? first : first + " (+" + (reasons.size() - 1) + " more)";
  }

  /** Returns the verdict as a short word, e.g. {@code HEALTHY}. */
  public static String verdict(Node n) {
    HealthState s = n.hasVerdict() ? n.getVerdict().getState() : HealthState.HEALTH_STATE_UNKNOWN;
    return s.name().replace("HEALTH_STATE_", "");
  }

  /** Returns how long ago the node's last batch arrived, e.g. {@code 0.4s ago}. */
  public static String lastSeen(Node n, Instant now) {
    if (!n.hasLastSeen()) {
      return "never";
    }
    Instant seen = Instant.ofEpochSecond(n.getLastSeen().getSeconds(), n.getLastSeen().getNanos());
    return ago(Duration.between(seen, now));
  }

  /** Formats an age compactly: {@code 0.4s ago}, {@code 12m ago}, {@code 3h ago}, {@code 2d ago}. */
  public static String ago(Duration d) {
    long ms = Math.max(0, d.toMillis());
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1fs ago", ms / 1000.0);
    }
    if (ms < 3_600_000) {
      return (ms / 60_000) + "m ago";
    }
    if (ms < 86_400_000) {
      return (ms / 3_600_000) + "h ago";
    }
    return (ms / 86_400_000) + "d ago";
  }
}
