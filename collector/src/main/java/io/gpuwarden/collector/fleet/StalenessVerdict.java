package io.gpuwarden.collector.fleet;

import com.google.protobuf.Timestamp;
import io.gpuwarden.agent.check.CheckRunner;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Judges a node from what the collector has: whether its telemetry is fresh, and the results of
 * the agent's own checks. A node that never sent a batch, or whose last batch is older than
 * {@code staleAfter}, is UNKNOWN whatever its checks last said; otherwise the node takes the worst
 * state among its check results (HEALTHY when there are none).
 */
public final class StalenessVerdict {
  /** Name of the collector-side check that reports stale telemetry. */
  public static final String STALENESS_CHECK = "staleness";

  private final Duration staleAfter;

  /** Creates the rule; {@code staleAfter} is how old the last batch may be. */
  public StalenessVerdict(Duration staleAfter) {
    this.staleAfter = staleAfter;
  }

  /** Returns how old the last batch may be before the node is UNKNOWN. */
  public Duration staleAfter() {
    return staleAfter;
  }

  /**
   * Computes the state and reasons.
   *
   * @param lastSeen when the last batch arrived; null when none ever did
   * @param checks the latest result of every agent check
   */
  public Judgement judge(Instant lastSeen, Collection<CheckResult> checks, Instant now) {
    Component node = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NODE).build();
    if (lastSeen == null) {
      return new Judgement(HealthState.HEALTH_STATE_UNKNOWN, List.of(Reason.newBuilder()
          .setCheck(STALENESS_CHECK)
          .setState(HealthState.HEALTH_STATE_UNKNOWN)
          .setComponent(node)
          .setMessage("no telemetry received yet")
          .setAction(SuggestedAction.SUGGESTED_ACTION_NONE)
          .build()));
    }
    Duration age = Duration.between(lastSeen, now);
    if (age.compareTo(staleAfter) > 0) {
      return new Judgement(HealthState.HEALTH_STATE_UNKNOWN, List.of(Reason.newBuilder()
          .setCheck(STALENESS_CHECK)
          .setState(HealthState.HEALTH_STATE_UNKNOWN)
          .setComponent(node)
          .setMessage(String.format("no telemetry for %.1f s (stale after %.1f s)", age.toMillis() / 1000.0,
              staleAfter.toMillis() / 1000.0))
          .setAction(SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION)
          .setSince(Timestamp.newBuilder().setSeconds(lastSeen.plus(staleAfter).getEpochSecond())
              .setNanos(lastSeen.plus(staleAfter).getNano()))
          .build()));
    }
    HealthState worst = HealthState.HEALTH_STATE_HEALTHY;
    List<Reason> reasons = new ArrayList<>();
    for (CheckResult check : checks) {
      if (CheckRunner.rank(check.getState()) > CheckRunner.rank(worst)) {
        worst = check.getState();
      }
      if (check.getState() != HealthState.HEALTH_STATE_HEALTHY) {
        reasons.addAll(check.getReasonsList());
      }
    }
    return new Judgement(worst, List.copyOf(reasons));
  }

  /** A state and the reasons for it. */
  public record Judgement(HealthState state, List<Reason> reasons) {}
}
