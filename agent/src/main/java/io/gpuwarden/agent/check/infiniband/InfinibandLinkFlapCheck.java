package io.gpuwarden.agent.check.infiniband;

import io.gpuwarden.common.Severity;
import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.CheckRunner;
import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.source.infiniband.CounterDelta;
import io.gpuwarden.agent.source.infiniband.InfinibandFormats;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Link flaps: increments of a port's {@code link_downed} counter. {@code flapsForDegraded} flaps
 * within {@code flapWindow} make the port DEGRADED, {@code flapsForUnhealthy} UNHEALTHY (defaults
 * 1 and 3 in 10 minutes). The state is sticky: the worst state reached in a flapping episode holds
 * until {@code flapStickyPeriod} (default 30 minutes) has passed since the last flap; only then,
 * with no new flap, is the port healthy again and the episode forgotten. A new flap during the
 * sticky period restarts it. The first reading is a baseline (flaps before the agent watched are
 * not counted); a cleared counter counts its new value as flaps since the reset. A
 * {@code link_downed} stuck at its 8-bit maximum (255) cannot count new flaps: DEGRADED, until the
 * counters are cleared.
 *
 * <p>Not thread-safe: called by one runner.
 */
public final class InfinibandLinkFlapCheck implements InfinibandCheck {
  /** Check name. */
  public static final String NAME = "infiniband-flap";

  private static final String COUNTER = "link_downed";

  private final InfinibandCheckConfig config;
  private final Supplier<List<InfinibandPortSample>> ports;
  private final IncrementWindow flaps;
  private final Map<String, Episode> episodes = new HashMap<>();

  /** A flapping episode: the last flap and the worst state reached. */
  private record Episode(Instant lastFlap, HealthState worst) {}

  /** Creates the check reading ports from {@code ports} when run as a HealthCheck. */
  public InfinibandLinkFlapCheck(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports) {
    this.config = requireNonNull(config, "config");
    this.ports = requireNonNull(ports, "ports");
    this.flaps = new IncrementWindow(config.flapWindow());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    return InfinibandPorts.evaluate(this, ports, host.time());
  }

  @Override
  public List<Finding> evaluate(Instant now, List<InfinibandPortSample> samples) {
    List<Finding> out = new ArrayList<>();
    for (InfinibandPortSample p : samples) {
      String key = InfinibandPorts.key(p);
      Long value = p.getCountersMap().get(COUNTER);
      if (value != null) {
        Optional<CounterDelta> step = flaps.add(key, COUNTER, now, value);
        if (step.isPresent() && step.get().increase() > 0) {
          Episode e = episodes.get(key);
          episodes.put(key, new Episode(now, e == null ? HealthState.HEALTH_STATE_HEALTHY : e.worst()));
        }
        if (InfinibandFormats.saturated(COUNTER, value)) {
          out.add(Finding.degraded(InfinibandPorts.component(p), InfinibandPorts.label(p) + " link_downed is saturated at "
              + value + ": new link flaps cannot be counted until the port counters are cleared (perfquery -R)",
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
      }
      judge(p, now).ifPresent(out::add);
    }
    return out;
  }

  private Optional<Finding> judge(InfinibandPortSample p, Instant now) {
    String key = InfinibandPorts.key(p);
    Episode e = episodes.get(key);
    if (e == null) {
      return Optional.empty();
    }
    Instant healthyAt = e.lastFlap().plus(config.flapStickyPeriod());
    if (!now.isBefore(healthyAt)) {
      episodes.remove(key);
      return Optional.empty();
    }
    IncrementWindow.Total recent = flaps.total(key, now);
    HealthState current = recent.increase() >= config.flapsForUnhealthy() ? HealthState.HEALTH_STATE_UNHEALTHY
        : recent.increase() >= config.flapsForDegraded() ? HealthState.HEALTH_STATE_DEGRADED
        : HealthState.HEALTH_STATE_HEALTHY;
    HealthState worst = worse(e.worst(), current);
    episodes.put(key, new Episode(e.lastFlap(), worst));
    if (worst == HealthState.HEALTH_STATE_HEALTHY) {
      // Fewer flaps than flapsForDegraded so far: not (yet) a flapping link.
      return Optional.empty();
    }
    String msg = InfinibandPorts.label(p) + " link went down " + (recent.exact() ? "" : "at least ") + recent.increase()
        + " time(s) in the last " + config.flapWindow().toMinutes() + " min (last at " + e.lastFlap()
        + "); healthy again at " + healthyAt + " if it does not flap again";
    return Optional.of(new Finding(worst, InfinibandPorts.component(p), msg, SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
  }

  private static HealthState worse(HealthState a, HealthState b) {
    return Severity.rank(a) >= Severity.rank(b) ? a : b;
  }
}
