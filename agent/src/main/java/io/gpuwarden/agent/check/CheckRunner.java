package io.gpuwarden.agent.check;

import io.gpuwarden.common.Severity;
import com.google.protobuf.Timestamp;
import io.gpuwarden.common.ProtoTime;
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
      if (Severity.rank(f.state()) > Severity.rank(worst)) {
        worst = f.state();
      }
    }
    return worst;
  }

  /** Returns the worst state over results (UNKNOWN ranks above DEGRADED, below UNHEALTHY). */
  public static HealthState overall(List<CheckResult> results) {
    HealthState worst = HealthState.HEALTH_STATE_HEALTHY;
    for (CheckResult r : results) {
      if (Severity.rank(r.getState()) > Severity.rank(worst)) {
        worst = r.getState();
      }
    }
    return worst;
  }

  /** Returns the most urgent action among the results' reasons (NONE when there is none). */
  public static SuggestedAction mostUrgentAction(List<CheckResult> results) {
    SuggestedAction best = SuggestedAction.SUGGESTED_ACTION_NONE;
    for (CheckResult r : results) {
      for (Reason reason : r.getReasonsList()) {
        if (Severity.urgency(reason.getAction()) > Severity.urgency(best)) {
          best = reason.getAction();
        }
      }
    }
    return best;
  }
}
