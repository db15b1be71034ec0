package io.gpuwarden.agent.source.nvml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NvmlGpuSourceTest {
  private NvmlGpuSource source;

  @BeforeEach
  void healthyHost() {
    FakeNvml.write(FakeNvml.healthyH100());
  }

  @AfterEach
  void close() {
    if (source != null) {
      source.close();
    }
  }

  private NvmlGpuSource open() {
    source = NvmlGpuSource.open(Optional.of(FakeNvml.library()), Clock.systemUTC(), java.time.Duration.ofSeconds(2));
    return source;
  }

  @Test
  void inventoryDescribesEveryGpuAndTheDriver() {
    NvmlGpuSource s = open();
    assertThat(s.driver().getDriverVersion()).isEqualTo("580.65.06");
    assertThat(s.driver().getNvmlVersion()).isEqualTo("13.580.65.06");
    assertThat(s.driver().getCudaDriverVersion()).isEqualTo("13.0");
    List<GpuInfo> gpus = s.inventory();
    assertThat(gpus).hasSize(8);
    assertThat(gpus).extracting(GpuInfo::getIndex).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    GpuInfo first = gpus.get(0);
    assertThat(first.getUuid()).isEqualTo("GPU-805e13e1-849d-2e73-fde9-ba4dd30620bc");
    assertThat(first.getSerial()).isEqualTo("1654922469636");
    assertThat(first.getPciBusId()).isEqualTo("00000000:18:00.0");
    assertThat(first.getName()).isEqualTo("NVIDIA H100 80GB HBM3");
    assertThat(first.getPciDeviceId()).isEqualTo(0x233010DE);
    assertThat(first.getMemoryTotalBytes()).isEqualTo(85_520_809_984L);
    assertThat(first.getPowerLimitMilliwatts()).isEqualTo(700_000);
  }

  @Test
  void sampleCarriesTheValuesNvmlReports() {
    List<GpuSample> samples = open().sample().gpus();
    assertThat(samples).hasSize(8);
    GpuSample s = samples.get(0);
    assertThat(s.getGpuUuid()).isEqualTo("GPU-805e13e1-849d-2e73-fde9-ba4dd30620bc");
    assertThat(s.getTemperatureCelsius()).isEqualTo(33);
    assertThat(s.getPowerMilliwatts()).isEqualTo(71_234);
    assertThat(s.getPowerLimitMilliwatts()).isEqualTo(700_000);
    assertThat(s.getUtilizationGpuPercent()).isZero();
    assertThat(s.getMemoryTotalBytes()).isEqualTo(85_520_809_984L);
    assertThat(s.getMemoryUsedBytes()).isEqualTo(4_194_304L);
    assertThat(s.getMemoryFreeBytes()).isEqualTo(85_520_809_984L - 579_862_528L - 4_194_304L);
    assertThat(s.getSmClockMhz()).isEqualTo(345);
    assertThat(s.getMemoryClockMhz()).isEqualTo(2619);
    assertThat(s.hasTime()).isTrue();
  }

  @Test
  void changedStateFileIsSeenByTheNextSample() {
    NvmlGpuSource s = open();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(5, g -> g.temperatureCelsius(81).utilization(97, 60)).build());
    GpuSample gpu5 = s.sample().gpus().get(5);
    assertThat(gpu5.getTemperatureCelsius()).isEqualTo(81);
    assertThat(gpu5.getUtilizationGpuPercent()).isEqualTo(97);
    assertThat(gpu5.getUtilizationMemoryPercent()).isEqualTo(60);
  }

  @Test
  void notSupportedValueIsLeftUnsetWithoutAnError() {
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(2, g -> g.fail("nvmlDeviceGetTemperatureV", NvmlReturn.NOT_SUPPORTED)
            .fail("nvmlDeviceGetTemperature", NvmlReturn.NOT_SUPPORTED))
        .build());
    NvmlGpuSource s = open();
    NvmlGpuSource.Sample sample = s.sample();
    List<GpuSample> samples = sample.gpus();
    assertThat(samples.get(2).hasTemperatureCelsius()).isFalse();
    assertThat(samples.get(2).hasPowerMilliwatts()).isTrue();
    assertThat(samples.get(1).getTemperatureCelsius()).isEqualTo(35);
    assertThat(sample.events()).isEmpty();
  }

  @Test
  void failingReadIsReportedOnceThenItsRecovery() {
    NvmlGpuSource s = open();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(3, g -> g.fail("nvmlDeviceGetPowerUsage", NvmlReturn.UNKNOWN)).build());
    NvmlGpuSource.Sample sample = s.sample();
    List<GpuSample> first = sample.gpus();
    assertThat(first.get(3).hasPowerMilliwatts()).isFalse();
    assertThat(first.get(3).hasTemperatureCelsius()).isTrue();
    assertThat(first.get(3).getLost()).isFalse();
    assertThat(first.get(4).hasPowerMilliwatts()).isTrue();
    assertThat(sample.events()).singleElement().satisfies(e -> {
      assertThat(e.getSourceError().getSource()).isEqualTo("nvml");
      assertThat(e.getSourceError().getRecovered()).isFalse();
      assertThat(e.getMessage()).contains("nvmlDeviceGetPowerUsage").contains("UNKNOWN");
      assertThat(e.getComponent().getGpuUuid()).isEqualTo(first.get(3).getGpuUuid());
      assertThat(e.getComponent().getPciBusId()).isEqualTo("00000000:5D:00.0");
    });

    assertThat(s.sample().events()).as("the same failure is not reported every sample").isEmpty();

    FakeNvml.write(FakeNvml.healthyH100());
    NvmlGpuSource.Sample recovered = s.sample();
    assertThat(recovered.gpus().get(3).hasPowerMilliwatts()).isTrue();
    assertThat(recovered.events()).singleElement()
        .satisfies(e -> assertThat(e.getSourceError().getRecovered()).isTrue());
  }

  @Test
  void gpuAnsweringGpuIsLostIsSampledAsLost() {
    NvmlGpuSource s = open();
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(6, g -> g.lost(true)).build());
    GpuSample gpu6 = s.sample().gpus().get(6);
    assertThat(gpu6.getLost()).isTrue();
    assertThat(gpu6.getUnavailableReason()).contains("GPU_IS_LOST");
    assertThat(s.sample().gpus().get(5).getLost()).isFalse();
  }

  @Test
  void driverNotLoadedFailsOpenWithTheNvmlCode() {
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().initError(NvmlReturn.DRIVER_NOT_LOADED).build());
    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(NvmlException.class, e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.DRIVER_NOT_LOADED))
        .hasMessageContaining("NVML_ERROR_DRIVER_NOT_LOADED");
  }
}
