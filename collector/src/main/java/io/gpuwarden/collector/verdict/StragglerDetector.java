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
import java.util.concurrent.ConcurrentHashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.Function;

/**
 * Finds GPUs that run hotter, draw unusual power or clock slower than their peers in the same
 * pool under comparable load: the "straggler" that holds back every synchronous job it is part of
 * while passing every absolute check.
 *
 * <p>How: each GPU keeps an exponentially weighted moving average of its temperature, power draw,
 * SM clock and utilisation, fed only by samples taken under load (utilisation at or above the
 * threshold), so an idle GPU's cool, slow readings neither count nor wash out what it does when it
 * works. The average has a half-life (60 s by default) so one odd sample does not flag a GPU, and it
 * is forgotten when not updated for a while (5 minutes), so a GPU that went idle or vanished stops
 * being judged and stops being a peer.
 *
 * <p>Like with like: power and clocks depend on how busy a GPU is, and temperature on how much power
 * it draws, so each is compared only with the peers whose load is comparable. A GPU's power and SM
 * clock are compared with the other GPUs of its pool whose average utilisation is within ±5
 * percentage points of its own; its temperature with those whose average power is within ±5 % of its
 * own. The comparable peers give a mean and a population standard deviation, and the GPU's z-score
 * is its distance from that mean in standard deviations. A temperature more than k above, a power
 * more than k away either side, or an SM clock more than k below is a DEGRADED reason with
 * HARDWARE_INSPECTION. A GPU with too few comparable peers is not judged on that metric. So a node
 * that is simply less busy is compared with other GPUs at its own load (or not at all), while a GPU
 * drawing clearly less power than GPUs at the same utilisation is flagged. What utilisation cannot
 * tell apart is work of different intensity at the same utilisation (a memory-bound job beside a
 * compute-bound one); the power window of the temperature comparison covers that for temperature.
 *
 * <p>Why the GPU is compared with the <em>others</em> only: with itself in the sample, one GPU's
 * z-score can never exceed (n - 1) / sqrt(n), which is below 3 for any pool of ten or fewer GPUs, so
 * a single 8-GPU node could never flag anything. Why a minimum of peers: a mean and a deviation
 * over a handful of GPUs say little, and a two-GPU "pool" would flag whichever differs. Why floors
 * under the deviation (1 °C, 5 W, 15 MHz): identical GPUs on identical work agree to within a
 * fraction of a degree, so the measured deviation can be near zero and any difference, however
 * harmless, would be many "standard deviations"; the floors are the differences too small to mean
 * anything about the hardware (for power also 2 % of the expected draw: parts differ that much).
 *
 * <p>Cost: the pool's averages are indexed at most once a second ({@link #STATS_REFRESH}), sorted by
 * load with prefix sums, so judging a node costs a binary search per GPU and metric, not a pass over
 * the pool. A pool so large that making its index takes more than 1/{@value #MAX_REFRESH_SHARE} of a
 * second (about 40 ms for 80,000 GPUs) is remade less often, so that the refresh never takes more
 * than that share of a core: the averages have a half-life of a minute and barely move in a few
 * seconds.
 *
 * <p>Thread-safe, without a lock across nodes: each GPU's averages have their own, and a pool's
 * index is remade under the pool's while judges keep using the one in force.
 */
public final class StragglerDetector {
  /** Name of the check in the reasons this detector makes. */
  public static final String CHECK = "straggler";
  /** Smallest temperature standard deviation used, °C. */
  public static final double TEMPERATURE_FLOOR_CELSIUS = 1.0;
  /** Smallest power standard deviation used, W. */
  public static final double POWER_FLOOR_WATTS = 5.0;
  /**
   * Smallest power standard deviation used, as a fraction of the power expected: parts of one
   * model differ by a few percent in power at the same load (leakage), which says nothing about
   * their health, so k deviations are never less than k times 2 %.
   */
  public static final double POWER_FLOOR_FRACTION = 0.02;
  /** Smallest SM clock standard deviation used, MHz. */
  public static final double SM_CLOCK_FLOOR_MHZ = 15.0;
  /** How long a pool's index is reused: judging a node costs its own GPUs, not the whole pool, on every batch. */
  static final Duration STATS_REFRESH = Duration.ofSeconds(1);
  /** A pool's index is reused for at least this many times what making it took. */
  static final int MAX_REFRESH_SHARE = 20;
  /** How often a pool's stale averages are dropped from memory (the index never uses them). */
  static final Duration DROP_STALE_EVERY = Duration.ofSeconds(10);
  private static final Metric[] METRICS = Metric.values();
  private static final Quantity[] QUANTITIES = Quantity.values();

  private final StragglerConfig config;
  /** Pool, then node id, then GPU UUID. A pool's map is also its lock for remaking its index. */
  private final Map<String, Map<String, Map<String, GpuAverages>>> pools = new ConcurrentHashMap<>();
  private final Map<String, String> poolOfNode = new ConcurrentHashMap<>();
  /** Per pool: its GPUs' averages indexed by load, remade when it is no longer in force ({@link #refresh}). */
  private final Map<String, PoolIndex> indexes = new ConcurrentHashMap<>();

  /** Creates a detector with {@code config}. */
  public StragglerDetector(StragglerConfig config) {
    this.config = requireNonNull(config, "config");
  }

  /**
   * Feeds one sample of a GPU of {@code nodeId} in {@code pool}, taken at {@code now}. Samples
   * below the load threshold, or without a utilisation, are ignored: they neither update nor reset
   * the GPU's averages. A node seen in another pool than before leaves the old one. Calls for one
   * node must not run concurrently (the registry holds the node's lock); other nodes' may.
   */
  public void observe(String pool, String nodeId, GpuSample sample, Instant now) {
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
    GpuAverages gpu = averagesOf(pool, nodeId, sample.getGpuUuid());
    synchronized (gpu) {
      gpu.index = sample.getIndex();
      for (Quantity q : QUANTITIES) {
        OptionalDouble v = q.read.apply(sample);
        if (v.isPresent()) {
          gpu.averages.computeIfAbsent(q, x -> new LoadAverage()).update(v.getAsDouble(), now, config.halfLife());
        }
      }
    }
  }

  /** Returns the averages of one GPU, made when new; a plain lookup when they exist (every GPU of every batch). */
  private GpuAverages averagesOf(String pool, String nodeId, String uuid) {
    Map<String, Map<String, GpuAverages>> nodes = pools.get(pool);
    if (nodes == null) {
      nodes = pools.computeIfAbsent(pool, p -> new ConcurrentHashMap<>());
    }
    Map<String, GpuAverages> gpus = nodes.get(nodeId);
    if (gpus == null) {
      gpus = nodes.computeIfAbsent(nodeId, n -> new ConcurrentHashMap<>());
    }
    GpuAverages gpu = gpus.get(uuid);
    return gpu != null ? gpu : gpus.computeIfAbsent(uuid, GpuAverages::new);
  }

  /**
   * Judges the GPUs of {@code nodeId} in {@code pool} against their peers under comparable load;
   * returns one reason per GPU and metric out of line, ordered by GPU index, or none. A GPU without
   * fresh averages, or with fewer comparable peers than the minimum, is not judged. Costs the node's
   * GPUs times a binary search in the pool's index; the index is remade by {@link #refresh} (or here
   * when it is no longer in force: only without a refresher, as in tests).
   */
  public List<Reason> judge(String pool, String nodeId, Instant now) {
    requireNonNull(pool, "pool");
    requireNonNull(nodeId, "nodeId");
    requireNonNull(now, "now");
    Map<String, Map<String, GpuAverages>> nodes = pools.get(pool);
    if (nodes == null) {
      return List.of();
    }
    PoolIndex index = indexes.get(pool);
    if (index == null || !index.inForce(now)) {
      index = reindex(pool, nodes, now);
    }
    Map<String, GpuAverages> mine = nodes.get(nodeId);
    if (mine == null || index == null) {
      return List.of();
    }
    List<GpuAverages> judged = new ArrayList<>(mine.values());
    judged.sort(Comparator.comparingInt((GpuAverages g) -> g.index).thenComparing(g -> g.uuid));
    Instant staleBefore = now.minus(config.staleAfter());
    List<Reason> out = new ArrayList<>();
    for (GpuAverages gpu : judged) {
      synchronized (gpu) {
        for (Metric m : METRICS) {
          Reason r = judge(pool, index, gpu, m, staleBefore);
          if (r == null) {
            gpu.flaggedSince.remove(m);
          } else {
            Instant since = gpu.flaggedSince.computeIfAbsent(m, x -> now);
            out.add(r.toBuilder().setSince(Timestamp.newBuilder().setSeconds(since.getEpochSecond())
                .setNanos(since.getNano())).build());
          }
        }
      }
    }
    return List.copyOf(out);
  }

  /** Remakes every pool's index as of {@code now} (the collector calls it twice a second, off the ingest threads). */
  public void refresh(Instant now) {
    pools.forEach((pool, nodes) -> reindex(pool, nodes, now));
  }

  /** Remakes one pool's index, unless another thread just did; returns the index in force (null: the pool emptied). */
  private PoolIndex reindex(String pool, Map<String, Map<String, GpuAverages>> nodes, Instant now) {
    synchronized (nodes) {
      PoolIndex current = indexes.get(pool);
      if (current != null && current.inForce(now) && current.forgotten.isEmpty()) {
        return current; // remade while this thread waited
      }
      Instant staleBefore = now.minus(config.staleAfter());
      Instant dropped = current == null ? null : current.dropped;
      if (dropped == null || !now.isBefore(dropped.plus(DROP_STALE_EVERY)) || now.isBefore(dropped)) {
        dropStale(pool, nodes, staleBefore);
        dropped = now;
      }
      if (nodes.isEmpty()) {
        pools.remove(pool, nodes);
        indexes.remove(pool);
        return null;
      }
      long started = System.nanoTime();
      PoolIndex index = new PoolIndex(now, dropped, nodes, minWeightSeconds(), staleBefore);
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      Duration reuse = took.multipliedBy(MAX_REFRESH_SHARE);
      index.until = now.plus(reuse.compareTo(STATS_REFRESH) > 0 ? reuse : STATS_REFRESH);
      indexes.put(pool, index);
      return index;
    }
  }

  /** Forgets every GPU of {@code nodeId}, e.g. when the node leaves the fleet or reboots into repair. */
  public void forget(String nodeId) {
    requireNonNull(nodeId, "nodeId");
    String pool = poolOfNode.remove(nodeId);
    if (pool != null) {
      removeNode(pool, nodeId);
    }
  }

  /** Returns a reason when metric {@code m} of {@code gpu} is more than k out of line with its comparable peers. */
  private Reason judge(String pool, PoolIndex index, GpuAverages gpu, Metric m, Instant staleBefore) {
    Double value = fresh(gpu, m.quantity, staleBefore);
    Double load = fresh(gpu, m.load, staleBefore);
    if (value == null || load == null) {
      return null; // stale: between two refreshes of the index, judge nobody on an old average
    }
    double lo = m.relativeWindow ? load * (1 - config.powerWindowFraction()) : load - config.utilizationWindowPercent();
    double hi = m.relativeWindow ? load * (1 + config.powerWindowFraction()) : load + config.utilizationWindowPercent();
    double[] w = index.byMetric[m.ordinal()].window(lo, hi);
    // Leave the judged GPU out by subtracting what it contributed when the index was made.
    index.subtract(w, gpu, m, lo, hi);
    // Nor are the GPUs of nodes forgotten since the index was made (until the next remake).
    for (GpuAverages gone : index.forgotten) {
      if (gone != gpu) {
        index.subtract(w, gone, m, lo, hi);
      }
    }
    int othersCount = (int) Math.round(w[0]);
    if (othersCount < 1 || othersCount + 1 < config.minPeers()) {
      return null;
    }
    // What the peers draw (or clock, or heat) at this GPU's own load: a line through the window's
    // points, so that peers a little busier or idler than this GPU do not bias the comparison.
    double n = w[0];
    double meanLoad = w[1] / n;
    double meanValue = w[3] / n;
    double varLoad = Math.max(0, w[2] / n - meanLoad * meanLoad);
    double varValue = Math.max(0, w[4] / n - meanValue * meanValue);
    double cov = w[5] / n - meanLoad * meanValue;
    double slope = varLoad > 1e-9 ? cov / varLoad : 0;
    double expected = meanValue + slope * (load - meanLoad);
    double measured = Math.sqrt(Math.max(0, varValue - slope * cov));
    double floor = m == Metric.POWER ? Math.max(m.floor, POWER_FLOOR_FRACTION * Math.abs(expected)) : m.floor;
    double deviation = Math.max(measured, floor);
    double z = (value - expected) / deviation;
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
        "straggler: %s " + number + " %s vs " + number + " ± " + number + " %s%s expected from %d other GPUs of pool %s"
            + " %s (z = %.1f, limit %s%.1f)",
        m.label, value, m.unit, expected, deviation, m.unit, measured < floor ? " (floor)" : "", othersCount, pool,
        m.relativeWindow ? String.format(Locale.ROOT, "drawing %.0f–%.0f W", lo, hi)
            : String.format(Locale.ROOT, "at %.0f–%.0f%% utilisation", Math.max(0, lo), Math.min(100, hi)),
        z, m.direction.sign, k);
    return Reason.newBuilder().setCheck(CHECK).setState(HealthState.HEALTH_STATE_DEGRADED)
        .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuUuid(gpu.uuid)
            .setGpuIndex(gpu.index))
        .setMessage(message).setAction(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION).build();
  }

  /**
   * Returns the GPU's average of {@code q}, or null when it has none, it stands for too little recent
   * time under load, or it was last updated before {@code staleBefore} (now less the stale limit).
   */
  private Double fresh(GpuAverages gpu, Quantity q, Instant staleBefore) {
    LoadAverage e = gpu.averages.get(q);
    return e == null || e.weightSeconds < minWeightSeconds() || e.updated.isBefore(staleBefore) ? null : e.value();
  }

  /** Least recent time under load an average must stand for to be judged or to be a peer: half a half-life. */
  private double minWeightSeconds() {
    return config.halfLife().toNanos() / 2e9;
  }

  /**
   * Drops the averages last updated before {@code staleBefore}, and GPUs and nodes left without
   * any: memory, not judgement (the index leaves stale averages out). Holds the pool's lock.
   */
  private void dropStale(String pool, Map<String, Map<String, GpuAverages>> nodes, Instant staleBefore) {
    nodes.entrySet().removeIf(node -> {
      node.getValue().values().removeIf(gpu -> {
        synchronized (gpu) {
          gpu.averages.values().removeIf(e -> e.updated.isBefore(staleBefore));
          gpu.flaggedSince.keySet().removeIf(m -> !gpu.averages.containsKey(m.quantity));
          return gpu.averages.isEmpty();
        }
      });
      if (node.getValue().isEmpty()) {
        poolOfNode.remove(node.getKey(), pool);
        return true;
      }
      return false;
    });
  }

  private void removeNode(String pool, String nodeId) {
    Map<String, Map<String, GpuAverages>> nodes = pools.get(pool);
    if (nodes == null) {
      return;
    }
    Map<String, GpuAverages> gone = nodes.remove(nodeId);
    PoolIndex index = indexes.get(pool);
    if (gone != null && index != null) {
      index.forgotten.addAll(gone.values()); // no longer peers, though still in the index until it is remade
    }
  }

  /** One pool's GPUs, indexed per judged metric by the load it is compared under. */
  private static final class PoolIndex {
    final Instant computed;
    /** When the pool's stale averages were last dropped ({@link #DROP_STALE_EVERY}). */
    final Instant dropped;
    /** Until when the index is used (set once, before it is published). */
    Instant until;
    /** By metric ordinal. */
    final PeerIndex[] byMetric = new PeerIndex[METRICS.length];
    /**
     * What each GPU contributed: per metric, its rounded load and its value ({@code [2m]},
     * {@code [2m + 1]}; NaN where it is no peer on that metric).
     */
    final Map<GpuAverages, double[]> contributed;
    /** GPUs of nodes forgotten since this index was made. */
    final java.util.Set<GpuAverages> forgotten = ConcurrentHashMap.newKeySet();

    /** Indexes, in one pass, the averages of {@code nodes} that stand for enough time and were updated since {@code staleBefore}. */
    PoolIndex(Instant computed, Instant dropped, Map<String, Map<String, GpuAverages>> nodes, double minWeightSeconds,
        Instant staleBefore) {
      this.computed = computed;
      this.dropped = dropped;
      int capacity = Math.max(16, nodes.size() * 8);
      contributed = new IdentityHashMap<>(capacity);
      double[][] loads = new double[METRICS.length][capacity];
      double[][] values = new double[METRICS.length][capacity];
      int[] count = new int[METRICS.length];
      for (Map<String, GpuAverages> node : nodes.values()) {
        for (GpuAverages g : node.values()) {
          double[] mine = null;
          synchronized (g) {
            for (Metric m : METRICS) {
              LoadAverage value = g.averages.get(m.quantity);
              LoadAverage load = g.averages.get(m.load);
              if (value == null || load == null || value.weightSeconds < minWeightSeconds
                  || value.updated.isBefore(staleBefore) || load.updated.isBefore(staleBefore)) {
                continue;
              }
              int o = m.ordinal();
              if (count[o] == loads[o].length) {
                loads[o] = java.util.Arrays.copyOf(loads[o], count[o] * 2);
                values[o] = java.util.Arrays.copyOf(values[o], count[o] * 2);
              }
              double x = PeerIndex.rounded(load.value());
              double y = value.value();
              loads[o][count[o]] = x;
              values[o][count[o]] = y;
              count[o]++;
              if (mine == null) {
                mine = new double[2 * METRICS.length];
                java.util.Arrays.fill(mine, Double.NaN);
              }
              mine[2 * o] = x;
              mine[2 * o + 1] = y;
            }
          }
          if (mine != null) {
            contributed.put(g, mine);
          }
        }
      }
      for (Metric m : METRICS) {
        byMetric[m.ordinal()] = new PeerIndex(loads[m.ordinal()], values[m.ordinal()], count[m.ordinal()]);
      }
    }

    /** True while the index is used at {@code now}: since it was made and before {@link #until}. */
    boolean inForce(Instant now) {
      return !now.isBefore(computed) && now.isBefore(until);
    }

    /** Takes out of sums {@code w} what {@code gpu} contributed on {@code m}, if its load was in [lo, hi]. */
    void subtract(double[] w, GpuAverages gpu, Metric m, double lo, double hi) {
      double[] theirs = contributed.get(gpu);
      if (theirs == null) {
        return;
      }
      double x = theirs[2 * m.ordinal()];
      if (x >= lo && x <= hi) { // false for NaN: no peer on m
        PeerIndex.add(w, x, theirs[2 * m.ordinal() + 1], -1);
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

  /** What each GPU averages. */
  private enum Quantity {
    TEMPERATURE(s -> s.hasTemperatureCelsius() ? OptionalDouble.of(s.getTemperatureCelsius()) : OptionalDouble.empty()),
    POWER(s -> s.hasPowerMilliwatts() ? OptionalDouble.of(Integer.toUnsignedLong(s.getPowerMilliwatts()) / 1000.0)
        : OptionalDouble.empty()),
    SM_CLOCK(s -> s.hasSmClockMhz() ? OptionalDouble.of(Integer.toUnsignedLong(s.getSmClockMhz())) : OptionalDouble.empty()),
    UTILIZATION(s -> OptionalDouble.of(Integer.toUnsignedLong(s.getUtilizationGpuPercent())));

    final Function<GpuSample, OptionalDouble> read;

    Quantity(Function<GpuSample, OptionalDouble> read) {
      this.read = read;
    }
  }

  /** What is judged, and the load under which peers are comparable. */
  private enum Metric {
    TEMPERATURE(Quantity.TEMPERATURE, Quantity.POWER, true, "temperature", "°C", TEMPERATURE_FLOOR_CELSIUS, 1,
        Direction.HIGH),
    POWER(Quantity.POWER, Quantity.UTILIZATION, false, "power", "W", POWER_FLOOR_WATTS, 0, Direction.EITHER),
    SM_CLOCK(Quantity.SM_CLOCK, Quantity.UTILIZATION, false, "SM clock", "MHz", SM_CLOCK_FLOOR_MHZ, 0, Direction.LOW);

    final Quantity quantity;
    final Quantity load;
    /** The comparable window is a fraction of the load (power) rather than points of it (utilisation). */
    final boolean relativeWindow;
    final String label;
    final String unit;
    final double floor;
    final int decimals;
    final Direction direction;

    Metric(Quantity quantity, Quantity load, boolean relativeWindow, String label, String unit, double floor,
        int decimals, Direction direction) {
      this.quantity = quantity;
      this.load = load;
      this.relativeWindow = relativeWindow;
      this.label = label;
      this.unit = unit;
      this.floor = floor;
      this.decimals = decimals;
      this.direction = direction;
    }
  }

  /** The live averages of one GPU; guarded by the detector's lock. */
  private static final class GpuAverages {
    final String uuid;
    int index;
    final Map<Quantity, LoadAverage> averages = new EnumMap<>(Quantity.class);
    final Map<Metric, Instant> flaggedSince = new EnumMap<>(Metric.class);

    GpuAverages(String uuid) {
      this.uuid = uuid;
    }
  }
}
