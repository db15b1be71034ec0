package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.HealthState;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * Policy of the release gate, an immutable value. Start from {@link #defaults()}.
 *
 * <p>Defaults and why:
 * <ul>
 *   <li>{@code soak} 5 min: long enough for the agent's rate checks (1 min windows) and a fabric
 *       probe to settle after a reboot, short enough that a repaired node returns quickly.
 *   <li>{@code verifyTimeout} 30 min: a node that has not passed by then (never came back, keeps
 *       flapping between states) needs a person: it is quarantined.
 *   <li>{@code maxPercentOut} 5 and {@code maxNodesOut} 0 (no count limit): at most 5% of a pool
 *       out of service at once; a pool always allows at least one node out so small pools can be
 *       maintained. Per-pool budgets override this.
 *   <li>{@code allocatableStates} HEALTHY and DEGRADED: DEGRADED is worth a look but runs jobs;
 *       UNHEALTHY and UNKNOWN (stale, never seen) never do.
 *   <li>{@code autoQuarantine} off: a SERVING node that turns UNHEALTHY is not allocatable at
 *       once either way; quarantining it too takes it out of service, so it is opt-in.
 *   <li>{@code breakerWindow} 5 min, {@code breakerShare} 0.1, {@code breakerMinNodes} 3: when more
 *       than 10% of a pool (and at least 3 nodes) turn UNHEALTHY within 5 minutes, the cause is more
 *       likely a bad rule or a fleet-wide event than broken hardware: automatic quarantine stops
 *       until an admin resets the breaker.
 * </ul>
 *
 * @param soak how long a node under verification must stay HEALTHY with fresh telemetry
 * @param verifyTimeout how long verification may take before the node is quarantined
 * @param maxPercentOut default share of a pool that may be out of service, 0 for no percent limit
 * @param maxNodesOut default number of a pool's nodes that may be out, 0 for no count limit
 * @param allocatableStates verdicts under which a SERVING node may take work
 * @param autoQuarantine quarantine SERVING nodes that turn UNHEALTHY
 * @param breakerWindow window over which UNHEALTHY turns are counted
 * @param breakerShare share of a pool turning UNHEALTHY within the window that opens the breaker
 * @param breakerMinNodes fewest UNHEALTHY turns that can open the breaker
 * @param tick how often the gate re-evaluates nodes under verification
 */
public record GateConfig(
    Duration soak,
    Duration verifyTimeout,
    double maxPercentOut,
    int maxNodesOut,
    Set<HealthState> allocatableStates,
    boolean autoQuarantine,
    Duration breakerWindow,
    double breakerShare,
    int breakerMinNodes,
    Duration tick) {

  /** Validates and copies. */
  public GateConfig {
    requireNonNull(soak, "soak");
    requireNonNull(verifyTimeout, "verifyTimeout");
    allocatableStates = Set.copyOf(requireNonNull(allocatableStates, "allocatableStates"));
    requireNonNull(breakerWindow, "breakerWindow");
    requireNonNull(tick, "tick");
    if (soak.isNegative() || verifyTimeout.compareTo(soak) <= 0) {
      throw new IllegalArgumentException("need 0 <= soak < verify timeout, got soak " + soak + " and timeout " + verifyTimeout);
    }
    if (maxPercentOut < 0 || maxPercentOut > 100 || maxNodesOut < 0) {
      throw new IllegalArgumentException("budget needs 0 <= percent <= 100 and nodes >= 0, got " + maxPercentOut + "% and "
          + maxNodesOut);
    }
    if (allocatableStates.contains(HealthState.HEALTH_STATE_UNHEALTHY) || allocatableStates.contains(HealthState.HEALTH_STATE_UNKNOWN)) {
      throw new IllegalArgumentException("UNHEALTHY and UNKNOWN nodes are never allocatable");
    }
    if (breakerShare <= 0 || breakerShare > 1 || breakerMinNodes < 1) {
      throw new IllegalArgumentException("circuit breaker needs 0 < share <= 1 and min nodes >= 1");
    }
    if (tick.isNegative() || tick.isZero() || tick.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("gate tick must be in (0, 1s], got " + tick);
    }
  }

  /** Returns the documented defaults. */
  public static GateConfig defaults() {
    return new GateConfig(Duration.ofMinutes(5), Duration.ofMinutes(30), 5, 0,
        EnumSet.of(HealthState.HEALTH_STATE_HEALTHY, HealthState.HEALTH_STATE_DEGRADED), false, Duration.ofMinutes(5), 0.1, 3,
        Duration.ofMillis(100));
  }

  /** Returns a copy with this soak and verification timeout. */
  public GateConfig withVerification(Duration soak, Duration timeout) {
    return new GateConfig(soak, timeout, maxPercentOut, maxNodesOut, allocatableStates, autoQuarantine, breakerWindow,
        breakerShare, breakerMinNodes, tick);
  }

  /** Returns a copy with this default budget. */
  public GateConfig withBudget(double percent, int nodes) {
    return new GateConfig(soak, verifyTimeout, percent, nodes, allocatableStates, autoQuarantine, breakerWindow, breakerShare,
        breakerMinNodes, tick);
  }

  /** Returns a copy that does or does not quarantine SERVING nodes turning UNHEALTHY. */
  public GateConfig withAutoQuarantine(boolean on) {
    return new GateConfig(soak, verifyTimeout, maxPercentOut, maxNodesOut, allocatableStates, on, breakerWindow, breakerShare,
        breakerMinNodes, tick);
  }

  /** Returns a copy with this circuit breaker. */
  public GateConfig withBreaker(Duration window, double share, int minNodes) {
    return new GateConfig(soak, verifyTimeout, maxPercentOut, maxNodesOut, allocatableStates, autoQuarantine, window, share,
        minNodes, tick);
  }
}
