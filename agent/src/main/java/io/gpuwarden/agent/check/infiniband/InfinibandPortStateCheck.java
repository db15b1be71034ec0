package io.gpuwarden.agent.check.infiniband;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Are the InfiniBand ports there, up and at full speed?
 *
 * <ul>
 *   <li><b>Present.</b> With {@code expectedPorts} configured, fewer ports is UNHEALTHY (an HCA fell
 *       off the bus or its driver is not loaded: the node cannot reach its peers). Without it, the
 *       ports seen on this boot are the expected set ({@link SeenPorts}, needs a state store): a port
 *       of the set that is gone from sysfs is UNHEALTHY, named, with whether its whole HCA is gone.
 *   <li><b>Up.</b> A port whose logical state is not ACTIVE (4) or whose physical state is not LinkUp
 *       (5) is UNHEALTHY with CHECK_FABRIC (cable, switch port or subnet manager). A port whose
 *       {@code state} or {@code phys_state} could not be read is UNKNOWN, never judged down.
 *   <li><b>Rate.</b> With {@code expectedRateGbps} configured, an ACTIVE port slower than it is
 *       DEGRADED (it works, at reduced bandwidth: a lane or speed fell back). Without it, an ACTIVE
 *       port slower than the fastest ACTIVE port of the same HCA model ({@code hca_type}, else
 *       {@code board_id}) and link layer on this host is DEGRADED: ports of one model on one host
 *       are cabled to the same fabric and train to the same rate, so a slower one fell back.
 * </ul>
 */
public final class InfinibandPortStateCheck implements InfinibandCheck {
  /** Check name. */
  public static final String NAME = "infiniband-port";

  private static final int ACTIVE = 4;
  private static final int LINK_UP = 5;

  private final InfinibandCheckConfig config;
  private final Supplier<List<InfinibandPortSample>> ports;
  private final Supplier<List<InfinibandPortInfo>> inventory;
  private final SeenPorts seen;

  /**
   * Creates the check reading ports from {@code ports} when run as a HealthCheck, without an
   * inventory (no comparison of siblings) nor a memory of the ports seen on this boot.
   */
  public InfinibandPortStateCheck(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports) {
    this(config, ports, List::of, null);
  }

  /**
   * Creates the check with the port inventory (models and link layers, for the comparison of
   * siblings) and a state store that remembers the ports seen on this boot (null: not remembered).
   */
  public InfinibandPortStateCheck(InfinibandCheckConfig config, Supplier<List<InfinibandPortSample>> ports,
      Supplier<List<InfinibandPortInfo>> inventory, StateStore state) {
    this.config = requireNonNull(config, "config");
    this.ports = requireNonNull(ports, "ports");
    this.inventory = requireNonNull(inventory, "inventory");
    this.seen = state == null ? null : new SeenPorts(state);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<InfinibandPortSample> read;
    try {
      read = ports.get();
    } catch (RuntimeException e) {
      return List.of(InfinibandPorts.readFailed(e));
    }
    List<Finding> out = new ArrayList<>();
    if (seen != null && config.expectedPorts().isEmpty()) {
      out.addAll(vanished(seen.update(host.bootId(), read.stream().map(InfinibandPorts::key).toList()), read));
    }
    out.addAll(evaluate(host.time(), read));
    return out;
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
    Map<String, RateGroup> groups = config.expectedRateGbps().isPresent() ? Map.of() : siblings(samples);
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
      if (InfinibandPorts.unreadable(p, "rate")) {
        continue;
      }
      if (config.expectedRateGbps().isPresent()) {
        double expected = config.expectedRateGbps().getAsDouble();
        if (p.getRateBitsPerSecond() < expected * 1e9) {
          out.add(Finding.degraded(InfinibandPorts.component(p), String.format(Locale.ROOT,
              "%s runs at %s, expected %s Gb/sec", label, p.getRateText(), gbps(expected)),
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
        continue;
      }
      RateGroup g = groups.get(InfinibandPorts.key(p));
      if (g != null && p.getRateBitsPerSecond() < g.fastest().getRateBitsPerSecond()) {
        out.add(Finding.degraded(InfinibandPorts.component(p), String.format(Locale.ROOT,
            "%s runs at %s, slower than its %d siblings (%s, %s) at up to %s", label, p.getRateText(),
            g.members() - 1, g.model(), g.linkLayer(), g.fastest().getRateText()),
            SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
      }
    }
    return out;
  }

  /** The ACTIVE ports of one HCA model and link layer with a readable rate: how many, and the fastest. */
  private record RateGroup(String model, String linkLayer, int members, InfinibandPortSample fastest) {}

  /** Returns, per "hca/port", the group of its siblings; ports without a model or a sibling are absent. */
  private Map<String, RateGroup> siblings(List<InfinibandPortSample> samples) {
    Map<String, InfinibandPortInfo> info = new HashMap<>();
    for (InfinibandPortInfo i : inventory.get()) {
      info.put(i.getHca() + "/" + i.getPort(), i);
    }
    Map<String, RateGroup> byModel = new HashMap<>();
    Map<String, String> modelOf = new HashMap<>();
    for (InfinibandPortSample p : samples) {
      InfinibandPortInfo i = info.get(InfinibandPorts.key(p));
      if (i == null || p.getState() != ACTIVE || p.getPhysState() != LINK_UP || InfinibandPorts.unreadable(p, "rate")) {
        continue;
      }
      String model = !i.getHcaType().isEmpty() ? i.getHcaType() : i.getBoardId();
      if (model.isEmpty() || i.getLinkLayer().isEmpty()) {
        continue;
      }
      String group = model + "|" + i.getLinkLayer();
      modelOf.put(InfinibandPorts.key(p), group);
      byModel.merge(group, new RateGroup(model, i.getLinkLayer(), 1, p), (a, b) -> new RateGroup(a.model(),
          a.linkLayer(), a.members() + 1,
          b.fastest().getRateBitsPerSecond() > a.fastest().getRateBitsPerSecond() ? b.fastest() : a.fastest()));
    }
    Map<String, RateGroup> out = new HashMap<>();
    modelOf.forEach((port, group) -> {
      RateGroup g = byModel.get(group);
      if (g.members() > 1) {
        out.put(port, g);
      }
    });
    return out;
  }

  /** Returns a finding for every port of {@code expected} that is not among {@code present}. */
  private static List<Finding> vanished(Set<String> expected, List<InfinibandPortSample> present) {
    Set<String> here = new HashSet<>();
    Set<String> hcas = new HashSet<>();
    for (InfinibandPortSample p : present) {
      here.add(InfinibandPorts.key(p));
      hcas.add(p.getHca());
    }
    List<Finding> out = new ArrayList<>();
    for (String key : expected) {
      if (here.contains(key)) {
        continue;
      }
      int slash = key.lastIndexOf('/');
      String hca = key.substring(0, slash);
      Component port = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT).setHca(hca)
          .setPort(Integer.parseInt(key.substring(slash + 1))).build();
      out.add(Finding.unhealthy(port, hca + " port " + key.substring(slash + 1) + " was present earlier on this boot and is "
          + "gone from sysfs" + (hcas.contains(hca) ? "" : " with its HCA (fell off the bus, or its driver was unloaded)"),
          SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
    }
    return out;
  }

  private static String gbps(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
