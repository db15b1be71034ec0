package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.VerificationProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The release gate's state machine for one node: its status, what the collector knows of the node
 * (verdict, freshness, boot id), an operator command or the passing of time → the next status with
 * the transition and its reason, or a refusal. Pure: it reads no store, no clock and no other
 * node; budgets, no-fly windows, the queue and the circuit breaker are the {@link GatePolicy}'s,
 * and writing is the {@link ReleaseGate}'s.
 *
 * <pre>
 * SERVING --lock--> LOCKED --complete--> VERIFYING --passes--> SERVING
 *                                            |  fails, times out
 *                                            v
 *    any --quarantine--> QUARANTINED --repair-done--> VERIFYING
 * </pre>
 */
public final class GateMachine {
  /** Actor of the gate's own transitions. */
  public static final String SYSTEM_ACTOR = "gpuwarden";

  private final GateConfig config;
  private final Duration staleAfter;

  /**
   * What a node's status becomes.
   *
   * @param next the new status (without the fields derived on every read: allocatability, pending)
   * @param transition what to record in the history; null when only verification progress changed
   * @param persist whether the store must be written (a transition, or progress worth keeping)
   */
  public record Step(GateStatus next, GateTransition transition, boolean persist) {
    /** Validates. */
    public Step {
      requireNonNull(next, "next");
    }
  }

  /**
   * A command's outcome: a refusal (why), or a step.
   *
   * @param refusal why the command cannot apply; null when it does
   * @param step the step; null when refused
   */
  public record Decision(String refusal, Step step) {
    static Decision refused(String why) {
      return new Decision(why, null);
    }

    static Decision of(Step step) {
      return new Decision(null, step);
    }
  }

  /** Creates the machine; {@code staleAfter} is how old a node's last batch may be for its telemetry to be fresh. */
  public GateMachine(GateConfig config, Duration staleAfter) {
    this.config = requireNonNull(config, "config");
    this.staleAfter = requireNonNull(staleAfter, "staleAfter");
  }

  /** Returns true when the node's telemetry is fresh and its verdict known. */
  public boolean fresh(NodeSummary n, Instant now) {
    return n != null && n.lastSeenAt() != null && !n.lastSeenAt().plus(staleAfter).isBefore(now)
        && n.hasVerdict() && n.getVerdict().getState() != HealthState.HEALTH_STATE_UNKNOWN;
  }

  /** Returns the node's verdict state, UNKNOWN without one. */
  public static HealthState verdict(NodeSummary n) {
    return n == null || !n.hasVerdict() ? HealthState.HEALTH_STATE_UNKNOWN : n.getVerdict().getState();
  }

  // ---------------------------------------------------------------- time and telemetry

  /**
   * A SERVING node whose fresh verdict is UNHEALTHY: quarantined when the caller's policy allows
   * automatic quarantine; null otherwise.
   */
  public Step autoQuarantine(GateStatus s, NodeSummary n, Instant now) {
    if (s.getState() != GateState.GATE_STATE_SERVING || !fresh(n, now) || verdict(n) != HealthState.HEALTH_STATE_UNHEALTHY) {
      return null;
    }
    String why = "node turned UNHEALTHY: " + GateText.firstReason(n);
    return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "auto-quarantine", n, now,
        b -> b.setQuarantineReason(why).clearLock().clearVerification());
  }

  /**
   * One look at a VERIFYING node: passes (SERVING) when fresh and HEALTHY for the whole soak (and,
   * if the lock expected a reboot, with a new boot id), fails (QUARANTINED) when its verdict turned
   * UNHEALTHY during verification or the deadline passed; otherwise records progress. Null when
   * nothing changed.
   */
  public Step verify(GateStatus s, NodeSummary n, Instant now) {
    VerificationProgress v = s.getVerification();
    Instant started = ProtoTime.instant(v.getStartedAt());
    if (fresh(n, now) && verdict(n) == HealthState.HEALTH_STATE_UNHEALTHY && n.getVerdict().hasSince()
        && !ProtoTime.instant(n.getVerdict().getSince()).isBefore(started.minus(staleAfter))) {
      String why = "verification failed: verdict UNHEALTHY: " + GateText.firstReason(n);
      return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "verify-failed", n, now,
          b -> b.setQuarantineReason(why));
    }
    Progress p = progress(s, n, now);
    if (p.pending().isEmpty()) {
      String why = "verification passed: HEALTHY with fresh telemetry for " + GateText.human(p.soaked())
          + (s.getLock().getExpectReboot() ? ", new boot " + n.getBootId() : "");
      return transition(s, GateState.GATE_STATE_SERVING, SYSTEM_ACTOR, why, "release", n, now,
          b -> b.clearLock().clearVerification().clearQuarantineReason());
    }
    if (!now.isBefore(ProtoTime.instant(v.getDeadline()))) {
      String why = "verification timed out after " + GateText.human(Duration.between(started, now)) + ": "
          + String.join("; ", p.pending());
      return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "verify-timeout", n, now,
          b -> b.setQuarantineReason(why).setVerification(p.recorded().toBuilder().addAllPending(p.pending())));
    }
    VerificationProgress updated = p.recorded();
    // Progress worth keeping (the soak started or stopped, a new boot seen); what it waits for is derived on read.
    boolean persist = updated.hasHealthySince() != v.hasHealthySince() || updated.getNewBootSeen() != v.getNewBootSeen()
        || (updated.hasHealthySince() && !updated.getHealthySince().equals(v.getHealthySince()));
    return persist || v.getPendingCount() > 0 ? new Step(s.toBuilder().setVerification(updated).build(), null, persist) : null;
  }

  /** Returns what a node under verification still waits for now (empty: it would pass). */
  public List<String> pending(GateStatus s, NodeSummary n, Instant now) {
    return progress(s, n, now).pending();
  }

  /**
   * Where a verification stands.
   *
   * @param recorded the progress to keep: when the soak began, whether a new boot was seen (no pending list)
   * @param pending what it waits for
   * @param soaked how long it has been HEALTHY with fresh telemetry
   */
  private record Progress(VerificationProgress recorded, List<String> pending, Duration soaked) {}

  private Progress progress(GateStatus s, NodeSummary n, Instant now) {
    HealthState verdict = verdict(n);
    boolean fresh = fresh(n, now);
    VerificationProgress v = s.getVerification();
    Instant started = ProtoTime.instant(v.getStartedAt());
    VerificationProgress.Builder p = v.toBuilder().clearPending();
    boolean newBoot = v.getNewBootSeen()
        || (s.getLock().getExpectReboot() && n != null && !n.getBootId().isEmpty()
            && !n.getBootId().equals(s.getLock().getBootIdAtLock()));
    p.setNewBootSeen(newBoot);
    if (fresh && verdict == HealthState.HEALTH_STATE_HEALTHY && (!s.getLock().getExpectReboot() || newBoot)) {
      if (!p.hasHealthySince()) {
        Instant since = ProtoTime.instant(n.getVerdict().getSince());
        p.setHealthySince(ProtoTime.of(since.isAfter(started) ? since : started));
      }
    } else {
      p.clearHealthySince();
    }
    List<String> pending = new ArrayList<>();
    if (n == null || !n.hasLastSeen()) {
      pending.add("no telemetry since the collector started");
    } else if (!fresh) {
      pending.add("telemetry stale (last batch " + GateText.human(Duration.between(n.lastSeenAt(), now)) + " ago)");
    } else if (verdict != HealthState.HEALTH_STATE_HEALTHY) {
      pending.add("verdict " + GateText.word(verdict) + ": " + GateText.firstReason(n));
    }
    if (s.getLock().getExpectReboot() && !newBoot) {
      pending.add("waiting for a new boot id (was " + s.getLock().getBootIdAtLock() + ")");
    }
    Duration soaked = p.hasHealthySince() ? Duration.between(ProtoTime.instant(p.getHealthySince()), now) : Duration.ZERO;
    if (soaked.compareTo(config.soak()) < 0) {
      pending.add("soak " + GateText.human(soaked) + " of " + GateText.human(config.soak()));
    }
    if (s.getHeld()) {
      pending.add("held: " + s.getHoldReason());
    }
    return new Progress(p.build(), List.copyOf(pending), soaked);
  }

  // ---------------------------------------------------------------- commands

  /** Whether a lock of {@code s} may be considered at all (budget and windows aside). */
  public Decision canLock(GateStatus s) {
    return s.getState() == GateState.GATE_STATE_SERVING ? Decision.of(null)
        : Decision.refused("node is " + GateText.word(s.getState()) + " since " + GateText.iso(s.getSince())
            + ": only SERVING nodes can be locked");
  }

  /** SERVING → LOCKED with {@code lock} (its reason, actor, boot id and emergency already set). */
  public Step lock(GateStatus s, LockInfo lock, String reason, NodeSummary n, Instant now) {
    return transition(s, GateState.GATE_STATE_LOCKED, lock.getActor(), reason, "lock", n, now,
        b -> b.setLock(lock).clearVerification().clearQuarantineReason());
  }

  /** LOCKED → VERIFYING: the work is done. */
  public Decision complete(GateStatus s, String reason, String actor, NodeSummary n, Instant now) {
    if (s.getState() != GateState.GATE_STATE_LOCKED) {
      return Decision.refused("node is " + GateText.word(s.getState())
          + (s.getState() == GateState.GATE_STATE_QUARANTINED ? ": use repair-done after the repair" : ": only LOCKED nodes can complete"));
    }
    return Decision.of(transition(s, GateState.GATE_STATE_VERIFYING, actor, reason.isEmpty() ? "maintenance complete" : reason,
        "complete", n, now, b -> b.setVerification(verification(now))));
  }

  /** Places an operator hold, in any state. */
  public Decision hold(GateStatus s, String reason, String actor, NodeSummary n, Instant now) {
    if (s.getHeld()) {
      return Decision.refused("already held: " + s.getHoldReason());
    }
    return Decision.of(transition(s, s.getState(), actor, reason, "hold", n, now, b -> b.setHeld(true).setHoldReason(reason)));
  }

  /** Lifts a hold. */
  public Decision unhold(GateStatus s, String reason, String actor, NodeSummary n, Instant now) {
    if (!s.getHeld()) {
      return Decision.refused("node is not held");
    }
    return Decision.of(transition(s, s.getState(), actor, reason.isEmpty() ? "hold lifted" : reason, "unhold", n, now,
        b -> b.setHeld(false).clearHoldReason()));
  }

  /** Admin override: back to SERVING without verification; needs {@code force} and a reason, refused for held nodes. */
  public Decision release(GateStatus s, boolean force, String reason, String actor, NodeSummary n, Instant now) {
    String refusal = !force ? "release needs --force: the gate releases nodes itself when verification passes"
        : s.getState() == GateState.GATE_STATE_SERVING ? "node is already SERVING"
        : s.getHeld() ? "node is held (" + s.getHoldReason() + "): unhold it first"
        : reason.isBlank() ? "a forced release needs a reason" : null;
    return refusal != null ? Decision.refused(refusal)
        : Decision.of(transition(s, GateState.GATE_STATE_SERVING, actor, reason, "force-release", n, now,
            b -> b.clearLock().clearVerification().clearQuarantineReason()));
  }

  /** Quarantines by hand, from any state but QUARANTINED. */
  public Decision quarantine(GateStatus s, String reason, String actor, NodeSummary n, Instant now) {
    if (s.getState() == GateState.GATE_STATE_QUARANTINED) {
      return Decision.refused("node is already QUARANTINED");
    }
    return Decision.of(transition(s, GateState.GATE_STATE_QUARANTINED, actor, reason, "quarantine", n, now,
        b -> b.setQuarantineReason(reason).clearVerification()));
  }

  /** After a repair: QUARANTINED → VERIFYING. */
  public Decision repairDone(GateStatus s, String reason, boolean expectReboot, String actor, NodeSummary n, Instant now) {
    if (s.getState() != GateState.GATE_STATE_QUARANTINED) {
      return Decision.refused("node is " + GateText.word(s.getState()) + ": only QUARANTINED nodes can report a repair");
    }
    LockInfo lock = s.getLock().toBuilder().setExpectReboot(expectReboot).setBootIdAtLock(n == null ? "" : n.getBootId())
        .setReason(s.getLock().getReason().isEmpty() ? "repair" : s.getLock().getReason()).build();
    return Decision.of(transition(s, GateState.GATE_STATE_VERIFYING, actor, reason.isEmpty() ? "repair done" : reason,
        "repair-done", n, now, b -> b.setLock(lock).setVerification(verification(now))));
  }

  // ---------------------------------------------------------------- allocatability

  /** Returns why the node may not take work now; empty when it may. */
  public List<String> notAllocatableReasons(GateStatus s, NodeSummary n, Instant now) {
    List<String> why = new ArrayList<>(2);
    if (s.getState() != GateState.GATE_STATE_SERVING) {
      why.add("gate " + GateText.word(s.getState()));
    }
    if (s.getHeld()) {
      why.add("held: " + s.getHoldReason());
    }
    if (n == null || !n.hasLastSeen()) {
      why.add("no telemetry since the collector started");
    } else if (!fresh(n, now)) {
      why.add("telemetry stale (last batch " + GateText.human(Duration.between(n.lastSeenAt(), now)) + " ago)");
    } else if (!config.allocatableStates().contains(n.getVerdict().getState())) {
      why.add("verdict " + GateText.word(n.getVerdict().getState()) + ": " + GateText.firstReason(n));
    }
    return why;
  }

  /** Returns {@code s} with its allocatability and the reasons against it. */
  public GateStatus withAllocatable(GateStatus s, NodeSummary n, Instant now) {
    List<String> why = notAllocatableReasons(s, n, now);
    return s.toBuilder().setAllocatable(why.isEmpty()).clearNotAllocatableReasons().addAllNotAllocatableReasons(why).build();
  }

  /** What is stored of a status: without the fields derived on every read (allocatable, pending). */
  public static GateStatus stored(GateStatus s) {
    GateStatus.Builder b = s.toBuilder().clearAllocatable().clearNotAllocatableReasons();
    if (b.hasVerification()) {
      b.getVerificationBuilder().clearPending();
    }
    return b.build();
  }

  private VerificationProgress verification(Instant now) {
    return VerificationProgress.newBuilder().setStartedAt(ProtoTime.of(now)).setDeadline(ProtoTime.of(now.plus(config.verifyTimeout())))
        .setSoak(ProtoTime.of(config.soak())).build();
  }

  private static Step transition(GateStatus s, GateState to, String actor, String reason, String action, NodeSummary n,
      Instant now, Consumer<GateStatus.Builder> edit) {
    GateStatus.Builder b = s.toBuilder().setState(to);
    if (s.getState() != to) {
      b.setSince(ProtoTime.of(now));
    }
    edit.accept(b);
    GateTransition.Builder t = GateTransition.newBuilder().setFromState(s.getState()).setToState(to).setActor(actor)
        .setReason(reason).setAction(action);
    if (n != null && n.hasVerdict()) {
      t.setVerdict(n.getVerdict());
    }
    return new Step(b.build(), t.build(), true);
  }
}
