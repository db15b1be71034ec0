package io.gpuwarden.collector.fleet;

import io.gpuwarden.common.Severity;
import com.google.protobuf.Timestamp;
import io.gpuwarden.collector.verdict.PoolExpectation;
import io.gpuwarden.collector.verdict.StragglerConfig;
import io.gpuwarden.collector.verdict.StragglerDetector;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Judges a node from what the collector has: whether its telemetry is fresh, the results of the
 * agent's own checks, and the collector's own rules: the inventory expected of the node's pool
 * ({@link PoolExpectation}) and its GPUs compared with their peers ({@link StragglerDetector}). A
 * node that never sent a batch, or whose last batch is older than {@code staleAfter}, is UNKNOWN
 * whatever its checks last said; otherwise the node takes the worst state among all of them
 * (HEALTHY when nothing is wrong).
 */
public final class StalenessVerdict {
  /** Name of the collector-side check that reports stale telemetry. */
  public static final String STALENESS_CHECK = "staleness";

  private final Duration staleAfter;
  private final Map<String, PoolExpectation> expectations;
  private final StragglerDetector stragglers;

  /** Creates the rule without collector-side rules; {@code staleAfter} is how old the last batch may be. */
  public StalenessVerdict(Duration staleAfter) {
    this(staleAfter, List.of(), new StragglerDetector(StragglerConfig.defaults()));
  }

  /**
   * Creates the rules.
   *
   * @param expectations the inventory expected per pool (at most one per pool)
   * @param stragglers the peer comparison, fed by {@link #observe}
   */
  public StalenessVerdict(Duration staleAfter, List<PoolExpectation> expectations, StragglerDetector stragglers) {
    this.staleAfter = staleAfter;
    this.expectations = PoolExpectation.byPool(expectations);
    this.stragglers = stragglers;
  }

  /** Creates the rules with the default straggler detection. */
  public StalenessVerdict(Duration staleAfter, List<PoolExpectation> expectations) {
    this(staleAfter, expectations, new StragglerDetector(StragglerConfig.defaults()));
  }

  /** Returns true when {@code pool} has an expected inventory (only then does a judgement need the node's inventory). */
  public boolean expects(String pool) {
    return expectations.containsKey(pool);
  }

  /** Feeds a GPU sample of {@code nodeId} to the peer comparison. */
  public void observe(String pool, String nodeId, GpuSample sample, Instant now) {
    stragglers.observe(pool, nodeId, sample, now);
  }

  /** Remakes the peer comparison's per-pool indexes as of {@code now} (off the ingest path). */
  public void refreshPeers(Instant now) {
    stragglers.refresh(now);
  }

  /** Forgets a node's GPUs in the peer comparison (it rebooted: its old averages describe another boot). */
  public void forget(String nodeId) {
    stragglers.forget(nodeId);
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
    return judge(lastSeen, checks, now, null);
  }

  /**
   * Computes the state and reasons, with the collector-side rules when {@code view} is given.
   *
   * @param view the node's id, pool, inventory and latest InfiniBand samples; null for agent checks only
   */
  public Judgement judge(Instant lastSeen, Collection<CheckResult> checks, Instant now, Node view) {
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
      if (Severity.rank(check.getState()) > Severity.rank(worst)) {
        worst = check.getState();
      }
      if (check.getState() != HealthState.HEALTH_STATE_HEALTHY) {
        reasons.addAll(check.getReasonsList());
      }
    }
    if (view != null) {
      List<Reason> collectorSide = new ArrayList<>();
      PoolExpectation expected = expectations.get(view.getPool());
      if (expected != null) {
        collectorSide.addAll(expected.check(view));
      }
      collectorSide.addAll(stragglers.judge(view.getPool(), view.getNodeId(), now));
      for (Reason r : collectorSide) {
        if (Severity.rank(r.getState()) > Severity.rank(worst)) {
          worst = r.getState();
        }
        reasons.add(r);
      }
    }
    return new Judgement(worst, List.copyOf(reasons));
  }

  /** A state and the reasons for it. */
  public record Judgement(HealthState state, List<Reason> reasons) {}
}
