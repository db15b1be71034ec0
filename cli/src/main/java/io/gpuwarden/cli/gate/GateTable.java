package io.gpuwarden.cli.gate;

import io.gpuwarden.cli.FleetTable;
import io.gpuwarden.cli.TextTable;
import io.gpuwarden.cli.Times;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.LockInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Renders gate statuses as the {@code gate} table: NODE POOL STATE ALLOCATABLE HELD SINCE DETAIL, by node id. */
public final class GateTable {
  private GateTable() {}

  /**
   * Renders {@code statuses} sorted by node id; SINCE is when the node entered its state, as {@code times} shows it, and
   * how long ago that was at {@code now}.
   */
  static String render(List<GateStatus> statuses, Instant now, Times times) {
    TextTable t = new TextTable("NODE", "POOL", "STATE", "ALLOCATABLE", "HELD", "SINCE", "DETAIL");
    statuses.stream().sorted(Comparator.comparing(GateStatus::getNodeId)).forEach(s -> t.row(
        s.getNodeId(),
        s.getPool(),
        GateFormat.state(s.getState()),
        s.getAllocatable() ? "yes" : "no",
        s.getHeld() ? "yes" : "no",
        since(s, now, times),
        detail(s)));
    return t.render();
  }

  /** {@code 2024-05-01T11:48:00Z (12m ago)}, or {@code -} when the collector sent no time. */
  static String since(GateStatus s, Instant now, Times times) {
    if (!s.hasSince()) {
      return "-";
    }
    return times.format(s.getSince()) + " (" + FleetTable.ago(Duration.between(GateFormat.instant(s.getSince()), now)) + ")";
  }

  /**
   * Says why the node is where it is: the hold, the lock, what verification still waits for, the quarantine reason,
   * or, for a SERVING node that is not allocatable, the collector's reasons; parts joined by {@code "; "}.
   */
  public static String detail(GateStatus s) {
    List<String> parts = new ArrayList<>();
    if (s.getHeld()) {
      parts.add("hold: " + orDash(s.getHoldReason()));
    }
    GateState state = s.getState();
    if ((state == GateState.GATE_STATE_LOCKED || state == GateState.GATE_STATE_VERIFYING) && s.hasLock()) {
      LockInfo l = s.getLock();
      parts.add((l.getEmergency() ? "emergency lock: " : "lock: ") + orDash(l.getReason())
          + (l.getActor().isEmpty() ? "" : " (by " + l.getActor() + ")"));
    }
    if (state == GateState.GATE_STATE_VERIFYING && s.hasVerification()) {
      List<String> pending = s.getVerification().getPendingList();
      parts.add(pending.isEmpty() ? "verifying: nothing pending" : "pending: " + String.join("; ", pending));
    }
    if (state == GateState.GATE_STATE_QUARANTINED) {
      parts.add("quarantine: " + orDash(s.getQuarantineReason()));
    }
    if (state == GateState.GATE_STATE_SERVING && !s.getAllocatable()) {
      parts.addAll(s.getNotAllocatableReasonsList());
    }
    return String.join("; ", parts);
  }

  private static String orDash(String s) {
    return s.isEmpty() ? "-" : s;
  }
}
