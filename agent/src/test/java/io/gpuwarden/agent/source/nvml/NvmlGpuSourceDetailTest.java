package io.gpuwarden.agent.source.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The detail (NVLink, retired pages, PCIe maxima, power limit, modes) is read on detail samples and carried forward in between. */
class NvmlGpuSourceDetailTest {
  private NvmlGpuSource source;

  @BeforeEach
  void healthyHost() {
    FakeNvml.write(FakeNvml.healthyH100());
    source = NvmlGpuSource.open(Optional.of(FakeNvml.library()), Clock.systemUTC(), Duration.ofSeconds(2));
  }

  @AfterEach
  void close() {
    source.close();
  }

  private static FakeNvmlState changedDetailAndTemperature() {
    return FakeNvml.healthyH100().toBuilder().gpu(2, g -> g.temperatureCelsius(77)
        .nvlinkErrors(4, NvlinkErrorCounter.DL_CRC_FLIT, 1234).nvlinkUp(7, false)
        .powerLimitMilliwatts(500_000).pcieLinkMax(4, 8).persistenceMode(false)).build();
  }

  @Test
  void aCheapSampleCarriesTheDetailForwardAndReadsTheRest() {
    GpuSample before = source.sample(true).gpus().get(2);
    FakeNvml.write(changedDetailAndTemperature());

    GpuSample cheap = source.sample(false).gpus().get(2);
    assertThat(cheap.getTemperatureCelsius()).as("read every time").isEqualTo(77);
    assertThat(cheap.getPowerLimitMilliwatts()).isEqualTo(before.getPowerLimitMilliwatts()).isNotEqualTo(500_000);
    assertThat(cheap.getPcieLinkGenerationMax()).isEqualTo(before.getPcieLinkGenerationMax());
    assertThat(cheap.getPersistenceMode()).isEqualTo(before.getPersistenceMode()).isTrue();
    assertThat(cheap.getNvlinksList()).isEqualTo(before.getNvlinksList()).hasSize(18);

    GpuSample detailed = source.sample(true).gpus().get(2);
    assertThat(detailed.getPowerLimitMilliwatts()).isEqualTo(500_000);
    assertThat(detailed.getPcieLinkGenerationMax()).isEqualTo(4);
    assertThat(detailed.getPcieLinkWidthMax()).isEqualTo(8);
    assertThat(detailed.getPersistenceMode()).isFalse();
    assertThat(detailed.getNvlinks(4).getCrcFlitErrors()).isEqualTo(1234);
    assertThat(detailed.getNvlinks(7).getActive()).isFalse();
    assertThat(source.sample(false).gpus().get(2).getNvlinks(4).getCrcFlitErrors())
        .as("the new detail is what is carried forward now").isEqualTo(1234);
  }

  @Test
  void theFirstSampleReadsTheDetailEvenWhenNotAsked() {
    GpuSample first = source.sample(false).gpus().get(0);
    assertThat(first.getNvlinksList()).hasSize(18);
    assertThat(first.hasPowerLimitMilliwatts()).isTrue();
    assertThat(first.hasRetiredPagesDbe()).isTrue();
  }

  @Test
  void aGpuThatWasLostIsReadInFullWhenItAnswersAgain() {
    source.sample(true);
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(2, g -> g.lost(true)).build());
    assertThat(source.sample(false).gpus().get(2).getLost()).isTrue();
    FakeNvml.write(changedDetailAndTemperature());
    GpuSample back = source.sample(false).gpus().get(2);
    assertThat(back.getLost()).isFalse();
    assertThat(back.getPowerLimitMilliwatts()).as("no stale detail from before the loss").isEqualTo(500_000);
    assertThat(back.getNvlinks(4).getCrcFlitErrors()).isEqualTo(1234);
  }

  @Test
  void aFailingDetailReadIsReportedOnceAndNotAsRecoveredOnCheapSamples() {
    FakeNvml.write(FakeNvml.healthyH100().toBuilder()
        .gpu(1, g -> g.fail("nvmlDeviceGetNvLinkErrorCounter", NvmlReturn.UNKNOWN)).build());
    NvmlGpuSource.Sample failing = source.sample(true);
    assertThat(failing.events()).singleElement().satisfies(e -> {
      assertThat(e.getSourceError().getRecovered()).isFalse();
      assertThat(e.getMessage()).contains("nvmlDeviceGetNvLinkErrorCounter");
    });
    FakeNvml.write(FakeNvml.healthyH100());
    assertThat(source.sample(false).events()).as("carried forward with the detail, still failing").isEmpty();
    assertThat(source.sample(false).events()).isEmpty();
    assertThat(source.sample(true).events()).singleElement()
        .satisfies(e -> assertThat(e.getSourceError().getRecovered()).isTrue());
  }
}
