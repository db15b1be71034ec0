package io.gpuwarden.collector.verdict;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Function;

/**
 * Finds GPUs that run hotter, draw unusual power or clock slower than their peers in the same
 * pool: the "straggler" that holds back every synchronous job it is part of while passing every
 * absolute check.
 *
 * <p>How: each GPU keeps an exponentially weighted moving average of its temperature, power draw
 * and SM clock, fed only by samples taken under load (utilisation at or above the threshold), so
 * an idle GPU's cool, slow readings neither count nor wash out what it does when it works. The
 * average has a half-life (60 s by default) so one odd sample does not flag a GPU, and it is
 * forgotten when not updated for a while (5 minutes), so a GPU that went idle or vanished stops
 * being judged and stops being a peer. To judge a GPU, the averages of the other GPUs of its pool
 * give a mean and a population standard deviation per metric, and the GPU's z-score is its distance
 * from that mean in standard deviations. A temperature more than k above, a power more than k away
 * either side, or an SM clock more than k below is a DEGRADED reason with HARDWARE_INSPECTION.
 *
 * <p>Why the GPU is compared with the <em>others</em> only: with itself in the sample, one GPU's
 * z-score can never exceed (n - 1) / sqrt(n), which is below 3 for any pool of ten or fewer GPUs, so
 * a single 8-GPU node could never flag anything. Why a minimum of peers: a mean and a deviation
 * over a handful of GPUs say little, and a two-GPU "pool" would flag whichever differs. Why floors
 * under the deviation (1 °C, 5 W, 15 MHz): identical GPUs on identical work agree to within a
 * fraction of a degree, so the measured deviation can be near zero and any difference, however
 * harmless, would be many "standard deviations"; the floors are the differences too small to mean
 * anything about the hardware.
 *
 * <p>Thread-safe: every method holds the detector's lock.
 */
public final class StragglerDetector {
  /** Name of the check in the reasons this detector makes. */
  public static final String CHECK = "straggler";
  /** Smallest temperature standard deviation used, °C. */
  public static final double TEMPERATURE_FLOOR_CELSIUS = 1.0;
  /** Smallest power standard deviation used, W. */
  public static final double POWER_FLOOR_WATTS = 5.0;
  /** Smallest SM clock standard deviation used, MHz. */
  public static final double SM_CLOCK_FLOOR_MHZ = 15.0;

  private final StragglerConfig config;
  /** Pool, then node id, then GPU UUID. */
  private final Map<String, Map<String, Map<String, GpuAverages>>> pools = new HashMap<>();
  private final Map<String, String> poolOfNode = new HashMap<>();
  /** Per pool: sums over its fresh GPU averages, recomputed at most every {@link #STATS_REFRESH} of {@code now}. */
  private final Map<String, PoolStats> stats = new HashMap<>();
  /** How long pool sums are reused: judging a node costs its own GPUs, not the whole pool, on every batch. */
  static final Duration STATS_REFRESH = Duration.ofSeconds(1);

  /** Count, sum and sum of squares per metric, and what each GPU contributed. */
  private static final class PoolStats {
    final Instant computed;
    final Map<Metric, double[]> sums = new java.util.EnumMap<>(Metric.class);
    final Map<GpuAverages, Map<Metric, Double>> contributed = new java.util.IdentityHashMap<>();

    PoolStats(Instant computed) {
      this.computed = computed;
    }
  }

  /** Creates a detector with {@code config}. */
  public StragglerDetector(StragglerConfig config) {
    this.config = requireNonNull(config, "config");
  }

  /**
   * Feeds one sample of a GPU of {@code nodeId} in {@code pool}, taken at {@code now}. Samples
   * below the load threshold, or without a utilisation, are ignored: they neither update nor reset
   * the GPU's averages. A node seen in another pool than before leaves the old one.
   */
  public synchronized void observe(String pool, String nodeId, GpuSample sample, Instant now) {
    requireNonNull(pool, "pool");
    requireNonNull(nodeId, "nodeId");
    requireNonNull(sample, "sample");
    requireNonNull(now, "now");
    if (!sample.hasUtilizationGpuPercent()
        || Integer.toUnsignedLong(sample.getUtilizationGpuPercent()) < config.loadThresholdPercent()) {
      return;
    }
    String before = poolOfNode.put(nodeId, pool);
    if (before != null && !before.equals(pool)) {
      removeNode(before, nodeId);
    }
    GpuAverages gpu = pools.computeIfAbsent(pool, p -> new HashMap<>()).computeIfAbsent(nodeId, n -> new HashMap<>())
        .computeIfAbsent(sample.getGpuUuid(), GpuAverages::new);
    gpu.index = sample.getIndex();
    for (Metric m : Metric.values()) {
      OptionalDouble v = m.read.apply(sample);
      if (v.isPresent()) {
        gpu.averages.computeIfAbsent(m, x -> new Ewma()).update(v.getAsDouble(), now, config.halfLife());
      }
    }
  }

  /**
   * Judges the GPUs of {@code nodeId} in {@code pool} against their peers; returns one reason per
   * GPU and metric out of line, ordered by GPU index, or none. A GPU without a fresh average, or a
   * pool with fewer than the minimum GPUs under load, is not judged.
   */
  public synchronized List<Reason> judge(String pool, String nodeId, Instant now) {
    requireNonNull(pool, "pool");
    requireNonNull(nodeId, "nodeId");
    requireNonNull(now, "now");
    Map<String, Map<String, GpuAverages>> nodes = pools.get(pool);
    if (nodes == null) {
      return List.of();
    }
    PoolStats ps = stats.get(pool);
    if (ps == null || !now.isBefore(ps.computed.plus(STATS_REFRESH)) || now.isBefore(ps.computed)) {
      dropStale(pool, nodes, now);
      ps = new PoolStats(now);
      for (Map<String, GpuAverages> node : nodes.values()) {
        for (GpuAverages g : node.values()) {
          for (Map.Entry<Metric, Ewma> e : g.averages.entrySet()) {
            double[] a = ps.sums.computeIfAbsent(e.getKey(), k -> new double[3]);
            a[0]++;
            a[1] += e.getValue().value;
            a[2] += e.getValue().value * e.getValue().value;
            ps.contributed.computeIfAbsent(g, k -> new java.util.EnumMap<>(Metric.class)).put(e.getKey(), e.getValue().value);
          }
        }
      }
      stats.put(pool, ps);
      if (!pools.containsKey(pool)) {
        return List.of();
      }
    }
    Map<String, GpuAverages> mine = nodes.get(nodeId);
    if (mine == null) {
      return List.of();
    }
    List<GpuAverages> judged = new ArrayList<>(mine.values());
    judged.sort(Comparator.comparingInt((GpuAverages g) -> g.index).thenComparing(g -> g.uuid));
    List<Reason> out = new ArrayList<>();
    for (GpuAverages gpu : judged) {
      for (Metric m : Metric.values()) {
        Ewma own = gpu.averages.get(m);
        if (own != null && Duration.between(own.updated, now).compareTo(config.staleAfter()) > 0) {
          own = null; // stale: between two refreshes of the pool sums, judge nobody on an old average
        }
        Reason r = own == null ? null : judge(pool, ps, gpu, m, own.value);
        if (r == null) {
          gpu.flaggedSince.remove(m);
        } else {
          Instant since = gpu.flaggedSince.computeIfAbsent(m, x -> now);
          out.add(r.toBuilder().setSince(Timestamp.newBuilder().setSeconds(since.getEpochSecond())
              .setNanos(since.getNano())).build());
        }
      }
    }
    return List.copyOf(out);
  }

  /** Forgets every GPU of {@code nodeId}, e.g. when the node leaves the fleet or reboots into repair. */
  public synchronized void forget(String nodeId) {
    requireNonNull(nodeId, "nodeId");
    String pool = poolOfNode.remove(nodeId);
    if (pool != null) {
      removeNode(pool, nodeId);
    }
  }

  /** Returns a reason when {@code value} of {@code gpu} is more than k out of line; null when not. */
  private Reason judge(String pool, PoolStats ps, GpuAverages gpu, Metric m, double value) {
    double[] a = ps.sums.get(m);
    if (a == null) {
      return null;
    }
    // Leave the judged GPU out by subtracting what it contributed when the sums were made.
    Double own = ps.contributed.getOrDefault(gpu, Map.of()).get(m);
    double n = a[0] - (own == null ? 0 : 1);
    double sum = a[1] - (own == null ? 0 : own);
    double sumSquares = a[2] - (own == null ? 0 : own * own);
    int othersCount = (int) Math.round(n);
    if (othersCount < 1 || othersCount + 1 < config.minPeers()) {
      return null;
    }
    double mean = sum / n;
    double variance = Math.max(0, sumSquares / n - mean * mean);
    double measured = Math.sqrt(variance);
    double deviation = Math.max(measured, m.floor);
    double z = (value - mean) / deviation;
    double k = config.k();
    boolean out = switch (m.direction) {
      case HIGH -> z > k;
      case LOW -> z < -k;
      case EITHER -> Math.abs(z) > k;
    };
    if (!out) {
      return null;
    }
    String number = "%." + m.decimals + "f";
    String message = String.format(Locale.ROOT,
        "straggler: %s " + number + " %s vs pool %s mean " + number + " ± " + number + " %s%s over %d other GPUs"
            + " under load (z = %.1f, limit %s%.1f)",
        m.label, value, m.unit, pool, mean, deviation, m.unit, measured < m.floor ? " (floor)" : "", othersCount, z,
        m.direction.sign, k);
    return Reason.newBuilder().setCheck(CHECK).setState(HealthState.HEALTH_STATE_DEGRADED)
        .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuUuid(gpu.uuid)
            .setGpuIndex(gpu.index))
        .setMessage(message).setAction(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION).build();
  }

  private void dropStale(String pool, Map<String, Map<String, GpuAverages>> nodes, Instant now) {
    nodes.entrySet().removeIf(node -> {
      node.getValue().values().removeIf(gpu -> {
        gpu.averages.values().removeIf(e -> Duration.between(e.updated, now).compareTo(config.staleAfter()) > 0);
        gpu.flaggedSince.keySet().retainAll(gpu.averages.keySet());
        return gpu.averages.isEmpty();
      });
      if (node.getValue().isEmpty()) {
        poolOfNode.remove(node.getKey(), pool);
        return true;
      }
      return false;
    });
    if (nodes.isEmpty()) {
      pools.remove(pool);
    }
  }

  private void removeNode(String pool, String nodeId) {
    stats.remove(pool);
    Map<String, Map<String, GpuAverages>> nodes = pools.get(pool);
    if (nodes != null) {
      nodes.remove(nodeId);
      if (nodes.isEmpty()) {
        pools.remove(pool);
      }
    }
  }

  private enum Direction {
    HIGH(""), LOW("-"), EITHER("±");

    final String sign;

    Direction(String sign) {
      this.sign = sign;
    }
  }

  private enum Metric {
    TEMPERATURE("temperature", "°C", TEMPERATURE_FLOOR_CELSIUS, 1, Direction.HIGH,
        s -> s.hasTemperatureCelsius() ? OptionalDouble.of(s.getTemperatureCelsius()) : OptionalDouble.empty()),
    POWER("power", "W", POWER_FLOOR_WATTS, 0, Direction.EITHER,
        s -> s.hasPowerMilliwatts() ? OptionalDouble.of(Integer.toUnsignedLong(s.getPowerMilliwatts()) / 1000.0)
            : OptionalDouble.empty()),
    SM_CLOCK("SM clock", "MHz", SM_CLOCK_FLOOR_MHZ, 0, Direction.LOW,
        s -> s.hasSmClockMhz() ? OptionalDouble.of(Integer.toUnsignedLong(s.getSmClockMhz())) : OptionalDouble.empty());

    final String label;
    final String unit;
    final double floor;
    final int decimals;
    final Direction direction;
    final Function<GpuSample, OptionalDouble> read;

    Metric(String label, String unit, double floor, int decimals, Direction direction,
        Function<GpuSample, OptionalDouble> read) {
      this.label = label;
      this.unit = unit;
      this.floor = floor;
      this.decimals = decimals;
      this.direction = direction;
      this.read = read;
    }
  }

  /** The live averages of one GPU; guarded by the detector's lock. */
  private static final class GpuAverages {
    final String uuid;
    int index;
    final Map<Metric, Ewma> averages = new EnumMap<>(Metric.class);
    final Map<Metric, Instant> flaggedSince = new EnumMap<>(Metric.class);

    GpuAverages(String uuid) {
      this.uuid = uuid;
    }
  }

  /** An exponentially weighted moving average over irregularly spaced samples. */
  private static final class Ewma {
    double value;
    Instant updated;

    void update(double x, Instant now, Duration halfLife) {
      if (updated == null) {
        value = x;
        updated = now;
        return;
      }
      // The weight of the new sample grows with the time since the last one, so the average forgets
      // at the same rate whatever the sampling period: after one half-life the old value counts half.
      double elapsed = Math.max(0, Duration.between(updated, now).toNanos());
      double alpha = 1 - Math.pow(0.5, elapsed / halfLife.toNanos());
      value += alpha * (x - value);
      if (now.isAfter(updated)) {
        updated = now;
      }
    }
  }
}
