package io.gpuwarden.collector.verdict;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What every node of a pool must have: a number of GPUs, a number of InfiniBand ports and the rate
 * each ACTIVE port must reach. The agent checks its own host against its own flags; this rule
 * checks the same from the collector's side against one operator-given expectation per pool, so a
 * node started with the wrong (or no) flags is still caught.
 *
 * <p>Example: {@code PoolExpectation.parse("h100:gpus=8,ib-ports=8,ib-rate=400")}.
 *
 * @param pool pool name, as in {@link Node#getPool()}
 * @param gpus GPUs every node must have; empty means not checked
 * @param infinibandPorts InfiniBand ports every node must have; empty means not checked
 * @param infinibandRateGbps rate every ACTIVE port must reach, in Gb/s; empty means not checked
 */
public record PoolExpectation(String pool, OptionalInt gpus, OptionalInt infinibandPorts,
    OptionalDouble infinibandRateGbps) {
  /** Name of the check in the reasons this rule makes. */
  public static final String CHECK = "inventory";

  private static final String GPUS = "gpus";
  private static final String IB_PORTS = "ib-ports";
  private static final String IB_RATE = "ib-rate";
  private static final String ACCEPTED = "accepted keys: " + GPUS + ", " + IB_PORTS + ", " + IB_RATE;
  private static final String ACTIVE = "ACTIVE";
  private static final int ACTIVE_STATE = 4;

  /** Validates the fields. */
  public PoolExpectation {
    requireNonNull(pool, "pool");
    requireNonNull(gpus, "gpus");
    requireNonNull(infinibandPorts, "infinibandPorts");
    requireNonNull(infinibandRateGbps, "infinibandRateGbps");
    if (pool.isBlank()) {
      throw new IllegalArgumentException("pool name must not be blank");
    }
    if (gpus.isPresent() && gpus.getAsInt() <= 0) {
      throw new IllegalArgumentException("expected GPUs must be > 0, got " + gpus.getAsInt());
    }
    if (infinibandPorts.isPresent() && infinibandPorts.getAsInt() <= 0) {
      throw new IllegalArgumentException("expected InfiniBand ports must be > 0, got " + infinibandPorts.getAsInt());
    }
    if (infinibandRateGbps.isPresent()
        && !(infinibandRateGbps.getAsDouble() > 0 && Double.isFinite(infinibandRateGbps.getAsDouble()))) {
      throw new IllegalArgumentException("expected InfiniBand rate must be > 0 Gb/s, got "
          + infinibandRateGbps.getAsDouble());
    }
  }

  /**
   * Parses the command-line form {@code POOL:gpus=8,ib-ports=8,ib-rate=400}: any subset of the keys,
   * at least one, each at most once.
   *
   * @throws IllegalArgumentException naming the spec, what is wrong with it and the accepted keys
   */
  public static PoolExpectation parse(String spec) {
    requireNonNull(spec, "spec");
    int colon = spec.indexOf(':');
    if (colon < 0) {
      throw bad(spec, "expected POOL:KEY=VALUE[,KEY=VALUE...]");
    }
    String pool = spec.substring(0, colon).strip();
    if (pool.isEmpty()) {
      throw bad(spec, "the pool name is empty");
    }
    String body = spec.substring(colon + 1).strip();
    if (body.isEmpty()) {
      throw bad(spec, "no expectation given for pool '" + pool + "'");
    }
    OptionalInt gpus = OptionalInt.empty();
    OptionalInt ports = OptionalInt.empty();
    OptionalDouble rate = OptionalDouble.empty();
    Set<String> seen = new HashSet<>();
    for (String item : body.split(",", -1)) {
      int eq = item.indexOf('=');
      if (eq < 0) {
        throw bad(spec, "'" + item.strip() + "' is not KEY=VALUE");
      }
      String key = item.substring(0, eq).strip();
      String value = item.substring(eq + 1).strip();
      if (!seen.add(key)) {
        throw bad(spec, "key '" + key + "' given twice");
      }
      switch (key) {
        case GPUS -> gpus = OptionalInt.of(positiveInt(spec, key, value));
        case IB_PORTS -> ports = OptionalInt.of(positiveInt(spec, key, value));
        case IB_RATE -> rate = OptionalDouble.of(positiveDouble(spec, key, value));
        default -> throw bad(spec, "unknown key '" + key + "'");
      }
    }
    return new PoolExpectation(pool, gpus, ports, rate);
  }

  /**
   * Indexes expectations by pool.
   *
   * @throws IllegalArgumentException when a pool has more than one expectation
   */
  public static Map<String, PoolExpectation> byPool(List<PoolExpectation> expectations) {
    Map<String, PoolExpectation> out = new LinkedHashMap<>();
    for (PoolExpectation e : expectations) {
      if (out.putIfAbsent(e.pool(), e) != null) {
        throw new IllegalArgumentException("pool '" + e.pool() + "' has more than one expectation");
      }
    }
    return Map.copyOf(out);
  }

  /**
   * Checks {@code node} against this expectation; returns no reasons when it is met. Having more
   * GPUs or ports than expected is fine. Ports are counted from the node's latest InfiniBand
   * samples, or from its inventory when it sent none. Only ACTIVE ports are held to the rate (a port
   * that is down is the agent's port-state check's business); a port whose rate could not be read
   * is not judged.
   */
  public List<Reason> check(Node node) {
    List<Reason> out = new ArrayList<>();
    Component whole = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NODE).build();
    int gpusPresent = node.getInventory().getGpusCount();
    if (gpus.isPresent() && gpusPresent < gpus.getAsInt()) {
      out.add(reason(HealthState.HEALTH_STATE_UNHEALTHY, whole,
          gpusPresent + " of " + gpus.getAsInt() + " expected GPUs present",
          SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
    }
    List<InfinibandPortSample> samples = node.getInfinibandSamplesList();
    int portsPresent = samples.isEmpty() ? node.getInventory().getInfinibandPortsCount() : distinctPorts(samples);
    if (infinibandPorts.isPresent() && portsPresent < infinibandPorts.getAsInt()) {
      out.add(reason(HealthState.HEALTH_STATE_UNHEALTHY, whole,
          portsPresent + " of " + infinibandPorts.getAsInt() + " expected InfiniBand ports present",
          SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
    }
    if (infinibandRateGbps.isPresent()) {
      double expected = infinibandRateGbps.getAsDouble();
      for (InfinibandPortSample p : samples) {
        if (active(p) && rateKnown(p) && p.getRateBitsPerSecond() < expected * 1e9) {
          Component port = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT)
              .setHca(p.getHca()).setPort(p.getPort()).build();
          out.add(reason(HealthState.HEALTH_STATE_DEGRADED, port, String.format(Locale.ROOT,
              "%s port %d runs at %s, expected %s Gb/s", p.getHca(), p.getPort(), rateText(p), gbps(expected)),
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
      }
    }
    return List.copyOf(out);
  }

  private static Reason reason(HealthState state, Component component, String message, SuggestedAction action) {
    return Reason.newBuilder().setCheck(CHECK).setState(state).setComponent(component).setMessage(message)
        .setAction(action).build();
  }

  private static int distinctPorts(List<InfinibandPortSample> samples) {
    Set<String> keys = new HashSet<>();
    for (InfinibandPortSample p : samples) {
      keys.add(p.getHca() + "/" + p.getPort());
    }
    return keys.size();
  }

  private static boolean active(InfinibandPortSample p) {
    // The agent sends both; the number covers a sample that carries no name.
    return p.getStateName().isEmpty() ? p.getState() == ACTIVE_STATE : ACTIVE.equalsIgnoreCase(p.getStateName());
  }

  private static boolean rateKnown(InfinibandPortSample p) {
    // An unreadable rate file leaves the rate 0 and a "rate: ..." read error; neither is a slow link.
    return p.getRateBitsPerSecond() > 0 && p.getReadErrorsList().stream().noneMatch(e -> e.startsWith("rate:"));
  }

  private static String rateText(InfinibandPortSample p) {
    return p.getRateText().isBlank() ? gbps(p.getRateBitsPerSecond() / 1e9) + " Gb/s" : p.getRateText();
  }

  private static String gbps(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static int positiveInt(String spec, String key, String value) {
    try {
      int v = Integer.parseInt(value);
      if (v > 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below with the spec
    }
    throw bad(spec, "value '" + value + "' of " + key + " is not a positive whole number");
  }

  private static double positiveDouble(String spec, String key, String value) {
    try {
      double v = Double.parseDouble(value);
      if (v > 0 && Double.isFinite(v)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below with the spec
    }
    throw bad(spec, "value '" + value + "' of " + key + " is not a positive number of Gb/s");
  }

  private static IllegalArgumentException bad(String spec, String what) {
    return new IllegalArgumentException("bad pool expectation '" + spec + "': " + what + "; " + ACCEPTED);
  }
}
