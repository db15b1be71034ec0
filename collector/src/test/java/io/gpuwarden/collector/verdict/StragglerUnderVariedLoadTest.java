package io.gpuwarden.collector.verdict;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The peer comparison on a simulated pool whose nodes run at different loads, as a real pool does:
 * each node's job keeps its GPUs at its own utilisation, power follows utilisation, temperature
 * follows power, and every part has its own small offsets. No healthy GPU may be flagged; a GPU that
 * draws clearly less power than GPUs at the same utilisation and clocks, runs hotter than GPUs at
 * the same power, or clocks slower at the same utilisation must be.
 */
class StragglerUnderVariedLoadTest {
  private static final String POOL = "h100";
  private static final Duration PERIOD = Duration.ofSeconds(5);
  /** The defaults, but counting every sample from 10 % utilisation, so loads from 20 % up are compared. */
  private static final StragglerConfig ANY_LOAD = new StragglerConfig(StragglerConfig.DEFAULT_K,
      StragglerConfig.DEFAULT_MIN_PEERS, 10, StragglerConfig.DEFAULT_HALF_LIFE, StragglerConfig.DEFAULT_STALE_AFTER);

  private final Random random = new Random(20261203);
  private final List<SimGpu> pool = new ArrayList<>();
  private Instant now = Instant.parse("2026-12-03T10:00:00Z");

  /** A GPU of the model: power, temperature and clock as functions of load, plus its part's offsets. */
  private final class SimGpu {
    final String node;
    final int index;
    double utilization;
    /** Parts differ by about 1 % in power at the same load. */
    final double powerScale = 1 + random.nextGaussian() * 0.01;
    final double temperatureOffset = random.nextGaussian();
    final double clockOffsetMhz = random.nextGaussian() * 8;
    /** Faults: a power deficit at a given load, extra heat at a given power, a clock deficit. */
    double powerDeficitWatts;
    double extraHeatCelsius;
    double clockDeficitMhz;

    SimGpu(String node, int index, double utilization) {
      this.node = node;
      this.index = index;
      this.utilization = utilization;
    }

    GpuSample sample() {
      double u = Math.max(0, Math.min(100, utilization + random.nextGaussian() * 4));
      double power = Math.min(700, (70 + 6.1 * u) * powerScale + random.nextGaussian() * 3) - powerDeficitWatts;
      double temperature = 25 + 0.068 * power + temperatureOffset + random.nextGaussian() + extraHeatCelsius;
      double clock = 1980 + clockOffsetMhz - (u > 90 ? random.nextInt(120) : 0) - clockDeficitMhz;
      return GpuSample.newBuilder().setGpuUuid("GPU-" + node + "-" + index).setIndex(index)
          .setUtilizationGpuPercent((int) Math.round(u)).setPowerMilliwatts((int) Math.round(power * 1000))
          .setTemperatureCelsius((int) Math.round(temperature)).setSmClockMhz((int) Math.round(clock)).build();
    }
  }

  /** Forty nodes, each running a job at its own utilisation between 20 and 100 %. */
  private void fortyNodesAtVariedLoad() {
    for (int n = 0; n < 40; n++) {
      double jobLoad = 20 + random.nextDouble() * 80;
      for (int i = 0; i < 8; i++) {
        pool.add(new SimGpu("n" + n, i, Math.min(100, jobLoad + random.nextGaussian() * 3)));
      }
    }
  }

  private StragglerDetector run(Duration d) {
    StragglerDetector detector = new StragglerDetector(ANY_LOAD);
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      for (SimGpu g : pool) {
        detector.observe(POOL, g.node, g.sample(), now);
      }
      now = now.plus(PERIOD);
    }
    return detector;
  }

  private List<Reason> everyReason(StragglerDetector detector) {
    List<Reason> out = new ArrayList<>();
    pool.stream().map(g -> g.node).distinct().forEach(n -> out.addAll(detector.judge(POOL, n, now)));
    return out;
  }

  private SimGpu gpu(String node, int index) {
    return pool.stream().filter(g -> g.node.equals(node) && g.index == index).findFirst().orElseThrow();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void noHealthyGpuIsFlaggedInAPoolAtVariedLoad(long seed) {
    random.setSeed(seed);
    fortyNodesAtVariedLoad();
    StragglerDetector detector = run(Duration.ofMinutes(10));

    // The loads really differ: pool-wide, power spans hundreds of watts, far beyond k deviations of any part.
    double[] power = pool.stream().mapToDouble(g -> g.sample().getPowerMilliwatts() / 1000.0).toArray();
    double mean = java.util.Arrays.stream(power).average().orElseThrow();
    double sd = Math.sqrt(java.util.Arrays.stream(power).map(p -> (p - mean) * (p - mean)).average().orElseThrow());
    assertThat(sd).as("pool-wide power deviation, W").isGreaterThan(100);

    assertThat(everyReason(detector)).isEmpty();
  }

  @Test
  void aLessBusyNodeIsNotAStraggler() {
    // The demo's case: seven nodes at 50-65 % utilisation, one at 30 %.
    for (int n = 0; n < 8; n++) {
      double load = n == 7 ? 30 : 50 + random.nextDouble() * 15;
      for (int i = 0; i < 8; i++) {
        pool.add(new SimGpu("n" + n, i, load));
      }
    }
    assertThat(everyReason(run(Duration.ofMinutes(10)))).isEmpty();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void theDemosRandomWalkOfLoadFlagsNobodyAtAnyTime(long seed) {
    random.setSeed(seed);
    // The demo's hosts (SimulatedHost): each GPU's utilisation walks randomly, now and then jumping to
    // idle or full load; power and temperature follow it. With the default 80 % threshold, one GPU's
    // average under load can sit at 82 % while another's sits at 97 %: 90 W apart for no fault.
    StragglerDetector detector = new StragglerDetector(StragglerConfig.defaults());
    double[] util = new double[64];
    for (int i = 0; i < util.length; i++) {
      util[i] = random.nextDouble() * 100;
    }
    List<Reason> seen = new ArrayList<>();
    for (int step = 0; step < 900; step++) {
      for (int i = 0; i < util.length; i++) {
        double u = util[i] + random.nextGaussian() * 12;
        if (random.nextDouble() < 0.05) {
          u = random.nextBoolean() ? 0 : 97;
        }
        util[i] = Math.max(0, Math.min(100, u));
        int busy = (int) Math.round(util[i]);
        detector.observe(POOL, "n" + i / 8, GpuSample.newBuilder().setGpuUuid("GPU-" + i).setIndex(i % 8)
            .setUtilizationGpuPercent(busy).setTemperatureCelsius((int) Math.round(31 + busy * 0.42 + random.nextGaussian()))
            .setPowerMilliwatts((int) Math.max(60_000, Math.round(70_000 + busy * 6_100 + random.nextGaussian() * 3_000)))
            .setSmClockMhz(busy > 3 ? 1980 - (busy > 90 ? random.nextInt(120) : 0) : 345).build(), now);
      }
      if (step % 10 == 0) {
        for (int n = 0; n < 8; n++) {
          seen.addAll(detector.judge(POOL, "n" + n, now));
        }
      }
      now = now.plus(Duration.ofSeconds(1));
    }
    assertThat(seen).extracting(Reason::getMessage).isEmpty();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void aGpuDrawingClearlyLessPowerAtTheSameUtilisationAndClocksIsFlagged(long seed) {
    assertOnlyFlagged(seed, g -> g.powerDeficitWatts = 80, "power");
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void aGpuHotterThanGpusAtTheSamePowerIsFlagged(long seed) {
    assertOnlyFlagged(seed, g -> g.extraHeatCelsius = 6, "temperature");
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void aGpuClockingSlowerAtTheSameUtilisationIsFlagged(long seed) {
    assertOnlyFlagged(seed, g -> g.clockDeficitMhz = 120, "SM clock");
  }

  private void assertOnlyFlagged(long seed, Consumer<SimGpu> fault, String metric) {
    random.setSeed(seed);
    fortyNodesAtVariedLoad();
    SimGpu sick = pool.stream().filter(g -> g.utilization > 40 && g.utilization < 85).findFirst().orElseThrow();
    fault.accept(sick);
    List<Reason> reasons = everyReason(run(Duration.ofMinutes(10)));
    assertThat(reasons).singleElement().satisfies(r -> {
      assertThat(r.getComponent().getGpuUuid()).isEqualTo("GPU-" + sick.node + "-" + sick.index);
      assertThat(r.getMessage()).startsWith("straggler: " + metric + " ");
    });
  }
}
