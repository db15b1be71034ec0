package io.gpuwarden.agent.check;

import com.google.protobuf.Timestamp;
import io.gpuwarden.agent.source.ProtoTime;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the registered checks, in order, on each snapshot and turns their findings into
 * {@link CheckResult}s. A check that throws becomes UNKNOWN with the exception named, never a
 * missing result. Each reason's {@code since} is the first time that (check, component, state,
 * action) held without interruption, so a reason whose numbers change keeps its age.
 *
 * <p>Not thread-safe: one runner per sampling loop.
 */
public final class CheckRunner {
  private static final Logger log = Logger.getLogger(CheckRunner.class.getName());

  private final List<HealthCheck> checks;
  private Map<String, Instant> since = new HashMap<>();

  /**
   * Creates a runner over {@code checks}.
   *
   * @throws IllegalArgumentException when two checks share a name
   */
  public CheckRunner(List<HealthCheck> checks) {
    Set<String> names = new HashSet<>();
    for (HealthCheck c : checks) {
      if (!names.add(c.name())) {
        throw new IllegalArgumentException("two health checks are named '" + c.name() + "'");
      }
    }
    this.checks = List.copyOf(checks);
  }

  /** Returns the names of the checks, in order. */
  public List<String> names() {
    return checks.stream().map(HealthCheck::name).toList();
  }

  /** Runs every check on {@code host}. */
  public List<CheckResult> run(HostSnapshot host) {
    Map<String, Instant> nextSince = new HashMap<>();
    List<CheckResult> results = new ArrayList<>(checks.size());
    Timestamp now = ProtoTime.of(host.time());
    for (HealthCheck check : checks) {
      List<Finding> findings;
      try {
        findings = check.evaluate(host);
      } catch (RuntimeException e) {
        log.log(Level.WARNING, "health check " + check.name() + " failed", e);
        findings = List.of(Finding.unknown(HostSnapshot.node(), "check " + check.name() + " failed: " + e));
      }
      CheckResult.Builder r = CheckResult.newBuilder().setCheck(check.name()).setTime(now).setState(worst(findings));
      for (Finding f : new LinkedHashSet<>(findings)) {
        String key = check.name() + "|" + f.component() + "|" + f.state() + "|" + f.action();
        Instant first = nextSince.computeIfAbsent(key, k -> since.getOrDefault(k, host.time()));
        r.addReasons(Reason.newBuilder()
            .setCheck(check.name())
            .setState(f.state())
            .setComponent(f.component())
            .setMessage(f.message())
            .setAction(f.action())
            .setSince(ProtoTime.of(first)));
      }
      results.add(r.build());
    }
    since = nextSince;
    return results;
  }

  /** Returns the worst state of {@code findings}: HEALTHY when there are none. */
  public static HealthState worst(List<Finding> findings) {
    HealthState worst = HealthState.HEALTH_STATE_HEALTHY;
    for (Finding f : findings) {
      if (rank(f.state()) > rank(worst)) {
        worst = f.state();
      }
    }
    return worst;
  }

  /** Returns the worst state over results (UNKNOWN ranks above DEGRADED, below UNHEALTHY). */
  public static HealthState overall(List<CheckResult> results) {
    HealthState worst = HealthState.HEALTH_STATE_HEALTHY;
    for (CheckResult r : results) {
      if (rank(r.getState()) > rank(worst)) {
        worst = r.getState();
      }
    }
    return worst;
  }

  /** Severity order: HEALTHY 0, DEGRADED 1, UNKNOWN 2, UNHEALTHY 3. */
  public static int rank(HealthState s) {
    return switch (s) {
      case HEALTH_STATE_HEALTHY -> 0;
      case HEALTH_STATE_DEGRADED -> 1;
      case HEALTH_STATE_UNKNOWN -> 2;
      case HEALTH_STATE_UNHEALTHY -> 3;
      default -> 2;
    };
  }

  /** Returns the most urgent action among the results' reasons (NONE when there is none). */
  public static SuggestedAction mostUrgentAction(List<CheckResult> results) {
    SuggestedAction best = SuggestedAction.SUGGESTED_ACTION_NONE;
    for (CheckResult r : results) {
      for (Reason reason : r.getReasonsList()) {
        if (urgency(reason.getAction()) > urgency(best)) {
          best = reason.getAction();
        }
      }
    }
    return best;
  }

  /** Orders actions by urgency: hardware inspection > reboot > reset > fabric > restart app > config > none. */
  public static int urgency(SuggestedAction a) {
    return switch (a) {
      case SUGGESTED_ACTION_HARDWARE_INSPECTION -> 6;
      case SUGGESTED_ACTION_REBOOT_NODE -> 5;
      case SUGGESTED_ACTION_RESET_GPU -> 4;
      case SUGGESTED_ACTION_CHECK_FABRIC -> 3;
      case SUGGESTED_ACTION_RESTART_APPLICATION -> 2;
      case SUGGESTED_ACTION_CHECK_CONFIGURATION -> 1;
      default -> 0;
    };
  }
}
