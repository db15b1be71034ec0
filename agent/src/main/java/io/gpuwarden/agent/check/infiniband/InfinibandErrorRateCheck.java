package io.gpuwarden.agent.check.infiniband;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.source.infiniband.InfinibandFormats;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Error counters of InfiniBand ports: a counter in {@code errorLimits} that grew by its limit or
 * more within {@code errorWindow} makes the port DEGRADED (a marginal cable, transceiver or switch
 * port: traffic still flows, with retries). The first reading is a baseline; a cleared counter
 * starts over without a negative step; a counter that reached its maximum during the window counts
 * as "at least" the growth seen. A watched counter stuck at its maximum cannot show new errors, so
 * it is DEGRADED too until the counters are cleared, unless its growth already exceeds the limit.
 *
 * <p>Not thread-safe: called by one runner.
 */
public final class InfinibandErrorRateCheck implements InfinibandCheck {
  /** Check name. */
  public static final String NAME = "infiniband-errors";

  private final InfinibandCheckConfig config;
  private final Supplier<List<InfinibandPortSample>> ports;
  private final Map<String, Long> limits;
  private final IncrementWindow errors;

  /** Creates the check reading ports from {@code ports} when run as a HealthCheck. */
  public InfinibandErrorRateCheck(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports) {
    this.config = requireNonNull(config, "config");
    this.ports = requireNonNull(ports, "ports");
    this.limits = new TreeMap<>(config.errorLimits()); // stable order of findings
    this.errors = new IncrementWindow(config.errorWindow());
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
      for (Map.Entry<String, Long> limit : limits.entrySet()) {
        String counter = limit.getKey();
        Long value = p.getCountersMap().get(counter);
        if (value == null) {
          continue;
        }
        String key = InfinibandPorts.key(p) + "/" + counter;
        errors.add(key, counter, now, value);
        IncrementWindow.Total recent = errors.total(key, now);
        String label = InfinibandPorts.label(p);
        if (recent.increase() >= limit.getValue()) {
          out.add(Finding.degraded(InfinibandPorts.component(p), label + " " + counter + " grew by "
              + (recent.exact() ? "" : "at least ") + recent.increase() + " in the last " + config.errorWindow().toMinutes()
              + " min (limit " + limit.getValue() + ")", SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        } else if (InfinibandFormats.saturated(counter, value)) {
          out.add(Finding.degraded(InfinibandPorts.component(p), label + " " + counter + " is saturated at " + value
              + ": new errors cannot be counted until the port counters are cleared (perfquery -R)",
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
      }
    }
    return out;
  }
}
