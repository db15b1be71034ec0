package io.gpuwarden.agent.source.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.TestClock;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hung GPUs through the fake NVML's injected hangs: the shared thread that reads the responsive
 * GPUs in turn must blame the GPU that hung (not the one before or after it), still read every
 * other GPU in the same cycle, leave the hung one out until its probe, and take it back when it
 * answers.
 */
class NvmlGpuSourceHangTest {
  private static final Duration TIMEOUT = Duration.ofMillis(600);
  private final TestClock clock = TestClock.at(Instant.parse("2026-11-30T10:00:00Z"));
  private NvmlGpuSource source;

  @BeforeEach
  void healthyHost() {
    FakeNvml.write(FakeNvml.healthyH100());
    source = NvmlGpuSource.open(Optional.of(FakeNvml.library()), clock, TIMEOUT);
  }

  @AfterEach
  void close() {
    FakeNvml.write(FakeNvml.healthyH100()); // ends every injected hang, so abandoned threads finish
    source.close();
  }

  private static void assertRead(List<GpuSample> gpus, int... indexes) {
    for (int i : indexes) {
      assertThat(gpus.get(i).getUnresponsive()).as("GPU %d unresponsive", i).isFalse();
      assertThat(gpus.get(i).hasTemperatureCelsius()).as("GPU %d read", i).isTrue();
    }
  }

  @Test
  void hungGpuIsBlamedAndTheGpusAfterItAreStillReadInTheSameCycle() {
    source.sample();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(3, g -> g.hangMillis(60_000)).build());

    long start = System.nanoTime();
    NvmlGpuSource.Sample sample = source.sample(false);
    long ms = (System.nanoTime() - start) / 1_000_000;

    assertThat(sample.gpus().get(3).getUnresponsive()).isTrue();
    assertThat(sample.gpus().get(3).getUnavailableReason())
        .isEqualTo("reading the GPU's counters did not return within 600 ms");
    assertRead(sample.gpus(), 0, 1, 2, 4, 5, 6, 7);
    assertThat(sample.deviceCount()).hasValue(8);
    assertThat(source.unresponsiveGpus()).isEqualTo(1);
    assertThat(ms).as("one deadline for the hung GPU, one for the GPUs after it, not one per GPU")
        .isLessThan(2 * TIMEOUT.toMillis() + 1_000);
  }

  @Test
  void hungGpuIsLeftOutUntilItsProbeAndRejoinsWhenItAnswers() {
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(5, g -> g.hangMillis(60_000)).build());
    source.sample(false);
    assertThat(source.unresponsiveGpus()).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    long start = System.nanoTime();
    NvmlGpuSource.Sample skipped = source.sample(false);
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertThat(skipped.gpus().get(5).getUnresponsive()).isTrue();
    assertThat(skipped.gpus().get(5).getUnavailableReason()).contains("did not return within 600 ms");
    assertRead(skipped.gpus(), 0, 1, 2, 3, 4, 6, 7);
    assertThat(ms).as("no call is queued to the hung GPU before its probe").isLessThan(TIMEOUT.toMillis());

    FakeNvml.write(FakeNvml.healthyH100());
    clock.advance(NvmlGpuSource.PROBE_INTERVAL);
    NvmlGpuSource.Sample probed = source.sample(false);
    assertRead(probed.gpus(), 0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(source.unresponsiveGpus()).isZero();
    assertThat(probed.events()).anySatisfy(e -> {
      assertThat(e.getSourceError().getRecovered()).isTrue();
      assertThat(e.getComponent().getGpuIndex()).isEqualTo(5);
    });

    clock.advance(Duration.ofSeconds(1));
    assertRead(source.sample(false).gpus(), 0, 1, 2, 3, 4, 5, 6, 7);
  }

  @Test
  void twoHungGpusAreBothBlamedAndTheRestRead() {
    source.sample();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(2, g -> g.hangMillis(60_000))
        .gpu(6, g -> g.hangMillis(60_000)).build());

    NvmlGpuSource.Sample sample = source.sample(false);

    assertThat(sample.gpus().get(2).getUnresponsive()).isTrue();
    assertThat(sample.gpus().get(6).getUnresponsive()).isTrue();
    assertRead(sample.gpus(), 0, 1, 3, 4, 5, 7);
    assertThat(source.unresponsiveGpus()).isEqualTo(2);
  }

  @Test
  void slowCallsEachWithinTheDeadlineAreNotBlamedThoughTheCycleTakesLonger() {
    source.sample();
    // Three GPUs each take 2/3 of the deadline: the cycle runs past one deadline, no call does.
    long slow = TIMEOUT.toMillis() * 2 / 3;
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(1, g -> g.hang("nvmlDeviceGetPowerUsage", slow))
        .gpu(2, g -> g.hang("nvmlDeviceGetPowerUsage", slow))
        .gpu(3, g -> g.hang("nvmlDeviceGetPowerUsage", slow)).build());

    NvmlGpuSource.Sample sample = source.sample(false);

    assertRead(sample.gpus(), 0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(source.unresponsiveGpus()).isZero();
  }

  @Test
  void hungDeviceCountIsReportedWithoutBlamingAGpu() {
    source.sample();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().hang("nvmlDeviceGetCount_v2", 60_000).build());

    NvmlGpuSource.Sample sample = source.sample(false);

    assertThat(sample.deviceCount()).isEmpty();
    assertRead(sample.gpus(), 0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(source.unresponsiveGpus()).isZero();
    assertThat(sample.events()).anySatisfy(e -> assertThat(e.getMessage())
        .contains("nvmlDeviceGetCount_v2").contains("did not return within 600 ms"));
  }
}
