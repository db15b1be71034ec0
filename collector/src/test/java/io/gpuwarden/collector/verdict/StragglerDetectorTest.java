package io.gpuwarden.collector.verdict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class StragglerDetectorTest {
  private static final String POOL = "h100";
  private static final Duration PERIOD = Duration.ofSeconds(10);

  private final StragglerDetector detector = new StragglerDetector(StragglerConfig.defaults());
  private final List<Gpu> fleet = new ArrayList<>();
  private Instant now = Instant.parse("2026-11-22T10:00:00Z");

  /** Two nodes of eight GPUs; each GPU has its own small, fixed offset, as real parts do. */
  @BeforeEach
  void sixteenGpusUnderLoad() {
    for (String node : List.of("n1", "n2")) {
      for (int i = 0; i < 8; i++) {
        int odd = i % 2 == 0 ? -1 : 1;
        fleet.add(new Gpu(node, i, 70 + odd, 650_000 + odd * 10_000, 1980 + odd * 20, 95));
      }
    }
  }

  @Test
  void poolWithSmallNoiseHasNoStragglers() {
    Random noise = new Random(42);
    for (int round = 0; round < 60; round++) {
      for (Gpu g : fleet) {
        detector.observe(POOL, g.node, g.sample(noise.nextInt(3) - 1, noise.nextInt(20_001) - 10_000,
            noise.nextInt(21) - 10), now);
      }
      now = now.plus(PERIOD);
    }
    assertThat(detector.judge(POOL, "n1", now)).isEmpty();
    assertThat(detector.judge(POOL, "n2", now)).isEmpty();
  }

  @Test
  void oneOddSampleDoesNotFlagAGpu() {
    run(Duration.ofMinutes(3));
    Gpu dipped = gpu("n1", 5);
    dipped.smClockMhz -= 300; // a momentary throttle: the latest sample alone would be 15 deviations low
    dipped.temperatureCelsius += 5;
    detector.observe(POOL, dipped.node, dipped.sample(0, 0, 0), now);

    assertThat(detector.judge(POOL, "n1", now)).isEmpty();
  }

  @Test
  void slowClockFlagsExactlyThatGpuWithTheNumbers() {
    gpu("n2", 3).smClockMhz = 1410;
    run(Duration.ofMinutes(3));

    assertThat(detector.judge(POOL, "n1", now)).isEmpty();
    assertThat(detector.judge(POOL, "n2", now)).singleElement().satisfies(r -> {
      assertThat(r.getCheck()).isEqualTo("straggler");
      assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(r.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(r.getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_GPU);
      assertThat(r.getComponent().getGpuUuid()).isEqualTo("GPU-n2-3");
      assertThat(r.getComponent().getGpuIndex()).isEqualTo(3);
      // Others: eight at 1960 and seven at 2000 MHz: mean 1978.67, population deviation 19.96.
      assertThat(r.getMessage()).isEqualTo("straggler: SM clock 1410 MHz vs 1979 ± 20 MHz expected from 15 other"
          + " GPUs of pool h100 at 90–100% utilisation (z = -28.5, limit -4.0)");
    });
  }

  @Test
  void hotGpuIsFlaggedSinceItFirstHeld() {
    gpu("n1", 6).temperatureCelsius = 84;
    run(Duration.ofMinutes(3));
    Instant first = now;

    assertThat(detector.judge(POOL, "n1", first)).singleElement().satisfies(r -> {
      assertThat(r.getComponent().getGpuUuid()).isEqualTo("GPU-n1-6");
      assertThat(r.getMessage()).startsWith("straggler: temperature 84.0 °C vs 69.0 ± 1.0 °C (floor)")
          .contains("expected from 15 other GPUs of pool h100 drawing 608–672 W (z = ");
    });
    run(Duration.ofMinutes(1));
    assertThat(detector.judge(POOL, "n1", now)).singleElement().extracting(Reason::getSince)
        .isEqualTo(timestamp(first));
    assertThat(detector.judge(POOL, "n2", now)).isEmpty();
  }

  @Test
  void powerIsFlaggedEitherWay() {
    gpu("n1", 0).powerMilliwatts = 450_000;
    gpu("n2", 7).powerMilliwatts = 850_000;
    run(Duration.ofMinutes(3));

    assertThat(detector.judge(POOL, "n1", now)).extracting(Reason::getMessage).singleElement().asString()
        .startsWith("straggler: power 450 W vs ").endsWith("limit ±4.0)");
    assertThat(detector.judge(POOL, "n2", now)).extracting(Reason::getMessage).singleElement().asString()
        .startsWith("straggler: power 850 W vs ");
  }

  @Test
  void fastClockAndCoolGpuAreNotStragglers() {
    gpu("n1", 2).smClockMhz = 2500;
    gpu("n1", 5).temperatureCelsius = 50;
    run(Duration.ofMinutes(3));

    assertThat(detector.judge(POOL, "n1", now)).isEmpty();
  }

  @Test
  void averageFollowsTheHalfLife() {
    run(Duration.ofMinutes(10));
    Gpu slow = gpu("n2", 0);
    slow.smClockMhz = 1360; // it ran at 1960 MHz; after one half-life at 1360 its average is half-way
    run(Duration.ofSeconds(60));

    assertThat(detector.judge(POOL, "n2", now)).extracting(Reason::getMessage).singleElement().asString()
        .startsWith("straggler: SM clock 1660 MHz vs");
  }

  @Test
  void aSampleAfterAGapStandsForFifteenSecondsNotForTheGap() {
    run(Duration.ofMinutes(10));
    Gpu slow = gpu("n2", 0);
    slow.smClockMhz = 1360;
    now = now.minus(PERIOD).plus(Duration.ofSeconds(60)); // one half-life without a sample under load
    detector.observe(POOL, slow.node, slow.sample(0, 0, 0), now);

    // Old samples count half (45.8 s of the 91.6 s they stood for), the new one 15 s: 1960 - 600 * 15 / 60.8.
    assertThat(detector.judge(POOL, "n2", now)).extracting(Reason::getMessage).singleElement().asString()
        .startsWith("straggler: SM clock 1812 MHz vs");
  }

  @Test
  void idleSamplesNeitherCountNorResetTheAverages() {
    gpu("n2", 3).smClockMhz = 1410;
    run(Duration.ofMinutes(3));
    // Now everything idles at a low clock: were idle samples averaged in, n2/3 would look like the others.
    for (Gpu g : fleet) {
      g.utilizationPercent = 79;
      g.smClockMhz = 345;
    }
    run(Duration.ofMinutes(2));

    assertThat(detector.judge(POOL, "n2", now)).extracting(r -> r.getComponent().getGpuUuid())
        .containsExactly("GPU-n2-3");
    assertThat(detector.judge(POOL, "n2", now).get(0).getMessage()).startsWith("straggler: SM clock 1410 MHz");
  }

  @Test
  void samplesWithoutUtilisationAreIgnoredEvenWithoutALoadThreshold() {
    StragglerDetector anyLoad = new StragglerDetector(new StragglerConfig(3.0, 8, 0, Duration.ofSeconds(60),
        Duration.ofMinutes(5)));
    gpu("n2", 3).smClockMhz = 1410;
    for (Gpu g : fleet) {
      anyLoad.observe(POOL, g.node, g.sample(0, 0, 0).toBuilder().clearUtilizationGpuPercent().build(), now);
    }
    assertThat(anyLoad.judge(POOL, "n2", now)).isEmpty();

    for (int i = 0; i < 6; i++) {
      now = now.plus(PERIOD);
      for (Gpu g : fleet) {
        g.utilizationPercent = 0;
        anyLoad.observe(POOL, g.node, g.sample(0, 0, 0), now);
      }
    }
    assertThat(anyLoad.judge(POOL, "n2", now)).hasSize(1);
  }

  @Test
  void fewerGpusUnderLoadThanTheMinimumJudgeNothing() {
    gpu("n2", 3).smClockMhz = 1410;
    // Seven of n2's GPUs work; n1 idles. Seven is one short of the minimum of eight.
    for (Gpu g : fleet) {
      if (g.node.equals("n1") || g.index == 0) {
        g.utilizationPercent = 0;
      }
    }
    run(Duration.ofMinutes(3));
    assertThat(detector.judge(POOL, "n2", now)).isEmpty();

    // A GPU counts as a peer once its average stands for half a half-life (30 s) of recent load:
    // its first sample stands for 1 s, each later one for the 10 s since the one before, all decaying.
    gpu("n1", 0).utilizationPercent = 100;
    run(Duration.ofSeconds(40));
    assertThat(detector.judge(POOL, "n2", now)).as("27.6 s after four samples").isEmpty();
    run(Duration.ofSeconds(10));
    assertThat(detector.judge(POOL, "n2", now)).extracting(r -> r.getComponent().getGpuUuid())
        .containsExactly("GPU-n2-3");
  }

  @Test
  void floorKeepsIdenticalFleetsFromFlaggingTinyDifferences() {
    for (Gpu g : fleet) {
      g.temperatureCelsius = 70;
      g.powerMilliwatts = 650_000;
      g.smClockMhz = 1980;
    }
    gpu("n1", 4).temperatureCelsius = 71; // one sample at 71, the rest at 70: averages half a degree warmer
    run(Duration.ofSeconds(10));
    gpu("n1", 4).temperatureCelsius = 70;
    now = now.minus(PERIOD).plus(Duration.ofSeconds(60));
    for (Gpu g : fleet) {
      detector.observe(POOL, g.node, g.sample(0, 0, 0), now);
    }
    assertThat(detector.judge(POOL, "n1", now)).isEmpty();

    gpu("n1", 4).temperatureCelsius = 75;
    run(Duration.ofMinutes(5));
    assertThat(detector.judge(POOL, "n1", now)).extracting(Reason::getMessage).singleElement().asString()
        .contains("vs 70.0 ± 1.0 °C (floor) expected from 15 other GPUs");
  }

  @Test
  void gpuNotUnderLoadForFiveMinutesIsForgotten() {
    Gpu hot = gpu("n1", 6);
    hot.temperatureCelsius = 84;
    run(Duration.ofMinutes(3));
    hot.utilizationPercent = 0;
    Instant lastUnderLoad = now.minus(PERIOD);
    run(Duration.ofMinutes(5).minus(PERIOD));
    assertThat(detector.judge(POOL, "n1", lastUnderLoad.plus(Duration.ofMinutes(5)))).hasSize(1);
    assertThat(detector.judge(POOL, "n1", lastUnderLoad.plus(Duration.ofMinutes(5)).plusMillis(1))).isEmpty();
  }

  @Test
  void wholePoolGoneQuietIsForgotten() {
    gpu("n2", 3).smClockMhz = 1410;
    run(Duration.ofMinutes(3));
    assertThat(detector.judge(POOL, "n2", now.plus(Duration.ofMinutes(4)))).hasSize(1);
    assertThat(detector.judge(POOL, "n2", now.plus(Duration.ofMinutes(6)))).isEmpty();
  }

  @Test
  void forgottenNodeIsNeitherJudgedNorAPeer() {
    gpu("n2", 3).smClockMhz = 1410;
    for (int i = 0; i < 8; i++) {
      fleet.add(new Gpu("n3", i, 70, 650_000, i == 0 ? 1410 : 1980, 95));
    }
    run(Duration.ofMinutes(3));
    assertThat(detector.judge(POOL, "n2", now)).hasSize(1);
    assertThat(detector.judge(POOL, "n3", now)).hasSize(1);

    detector.forget("n2");
    assertThat(detector.judge(POOL, "n2", now)).isEmpty();
    // n1 and n3 are left: n3/0 is still the straggler among their 16 GPUs.
    assertThat(detector.judge(POOL, "n3", now)).extracting(Reason::getMessage).singleElement().asString()
        .contains("expected from 15 other GPUs");

    detector.forget("n1");
    detector.forget("n3");
    assertThat(detector.judge(POOL, "n3", now)).isEmpty();
  }

  @Test
  void poolsAreJudgedApart() {
    gpu("n2", 3).smClockMhz = 1410;
    run(Duration.ofMinutes(3));
    assertThat(detector.judge("a100", "n2", now)).isEmpty();
  }

  @Test
  void configRefusesNonsense() {
    assertThatThrownBy(() -> new StragglerConfig(0, 8, 80, Duration.ofSeconds(60), Duration.ofMinutes(5)))
        .hasMessageContaining("k must be > 0");
    assertThatThrownBy(() -> new StragglerConfig(3, 1, 80, Duration.ofSeconds(60), Duration.ofMinutes(5)))
        .hasMessageContaining("minPeers must be >= 2");
    assertThatThrownBy(() -> new StragglerConfig(3, 8, 101, Duration.ofSeconds(60), Duration.ofMinutes(5)))
        .hasMessageContaining("loadThresholdPercent must be 0..100");
    assertThatThrownBy(() -> new StragglerConfig(3, 8, 80, Duration.ZERO, Duration.ofMinutes(5)))
        .hasMessageContaining("halfLife must be > 0");
    assertThat(StragglerConfig.defaults()).isEqualTo(new StragglerConfig(4.0, 8, 80, Duration.ofSeconds(60),
        Duration.ofMinutes(5), 5, 0.05));
  }

  /** Every GPU sends a sample each period for {@code d}, the last one at {@code now - PERIOD}. */
  private void run(Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      for (Gpu g : fleet) {
        detector.observe(POOL, g.node, g.sample(0, 0, 0), now);
      }
      now = now.plus(PERIOD);
    }
  }

  private Gpu gpu(String node, int index) {
    return fleet.stream().filter(g -> g.node.equals(node) && g.index == index).findFirst().orElseThrow();
  }

  private static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static final class Gpu {
    final String node;
    final int index;
    int temperatureCelsius;
    int powerMilliwatts;
    int smClockMhz;
    int utilizationPercent;

    Gpu(String node, int index, int temperatureCelsius, int powerMilliwatts, int smClockMhz, int utilizationPercent) {
      this.node = node;
      this.index = index;
      this.temperatureCelsius = temperatureCelsius;
      this.powerMilliwatts = powerMilliwatts;
      this.smClockMhz = smClockMhz;
      this.utilizationPercent = utilizationPercent;
    }

    GpuSample sample(int temperatureNoise, int powerNoise, int clockNoise) {
      return GpuSample.newBuilder().setGpuUuid("GPU-" + node + "-" + index).setIndex(index)
          .setUtilizationGpuPercent(utilizationPercent).setTemperatureCelsius(temperatureCelsius + temperatureNoise)
          .setPowerMilliwatts(powerMilliwatts + powerNoise).setSmClockMhz(smClockMhz + clockNoise).build();
    }
  }
}
