package io.gpuwarden.agent.check.infiniband;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Are the InfiniBand ports there, up and at full speed? Fewer ports than {@code expectedPorts} is
 * UNHEALTHY (an HCA fell off the bus or its driver is not loaded: the node cannot reach its
 * peers). A port whose logical state is not ACTIVE (4) or whose physical state is not LinkUp (5) is
 * UNHEALTHY with CHECK_FABRIC (cable, switch port or subnet manager). An ACTIVE port slower than
 * {@code expectedRateGbps} is DEGRADED (it works, at reduced bandwidth: a lane or speed fell back).
 * A port whose {@code state} or {@code phys_state} could not be read is UNKNOWN, never judged down.
 */
public final class InfinibandPortStateCheck implements InfinibandCheck {
  /** Check name. */
  public static final String NAME = "infiniband-port";

  private static final int ACTIVE = 4;
  private static final int LINK_UP = 5;

  private final InfinibandCheckConfig config;
  private final Supplier<List<InfinibandPortSample>> ports;

  /** Creates the check reading ports from {@code ports} when run as a HealthCheck. */
  public InfinibandPortStateCheck(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports) {
    this.config = requireNonNull(config, "config");
    this.ports = requireNonNull(ports, "ports");
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
    if (config.expectedPorts().isPresent() && samples.size() < config.expectedPorts().getAsInt()) {
      int expected = config.expectedPorts().getAsInt();
      String found = samples.stream().map(InfinibandPorts::label).toList().toString();
      out.add(Finding.unhealthy(HostSnapshot.node(), "found " + samples.size() + " InfiniBand ports, expected "
          + expected + (samples.isEmpty() ? " (is the mlx5_ib driver loaded?)" : ": " + found),
          samples.isEmpty() ? SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION
              : SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
    }
    for (InfinibandPortSample p : samples) {
      String label = InfinibandPorts.label(p);
      if (InfinibandPorts.unreadable(p, "state") || InfinibandPorts.unreadable(p, "phys_state")) {
        out.add(Finding.unknown(InfinibandPorts.component(p), label + " state could not be read: " + p.getReadErrorsList()));
        continue;
      }
      if (p.getState() != ACTIVE || p.getPhysState() != LINK_UP) {
        out.add(Finding.unhealthy(InfinibandPorts.component(p), String.format(Locale.ROOT,
            "%s is %s (%d), physical state %s (%d); expected ACTIVE (4) and LinkUp (5)", label, p.getStateName(),
            p.getState(), p.getPhysStateName(), p.getPhysState()), SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        continue;
      }
      if (config.expectedRateGbps().isPresent() && !InfinibandPorts.unreadable(p, "rate")) {
        double expected = config.expectedRateGbps().getAsDouble();
        if (p.getRateBitsPerSecond() < expected * 1e9) {
          out.add(Finding.degraded(InfinibandPorts.component(p), String.format(Locale.ROOT,
              "%s runs at %s, expected %s Gb/sec", label, p.getRateText(), gbps(expected)),
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
      }
    }
    return out;
  }

  private static String gbps(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
