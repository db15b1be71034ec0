package io.gpuwarden.agent.source.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlFieldId;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.fake.FakeGpu;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuRecoveryAction;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The health counters and the NVLink states and totals come from {@code nvmlDeviceGetFieldValues},
 * one call each, through the fake's real field path: an entry's value, its fault, and the fallback
 * to the value's own function when the field is not supported; and per-link NVLink error counters
 * read again only when the totals move.
 */
class NvmlGpuSourceFieldsTest {
  private NvmlGpuSource source;

  @BeforeEach
  void open() {
    FakeNvml.write(FakeNvml.healthyH100());
    source = NvmlGpuSource.open(Optional.of(FakeNvml.library()), Clock.systemUTC(), Duration.ofSeconds(2));
  }

  @AfterEach
  void close() {
    source.close();
  }

  private static FakeNvmlState gpu3(UnaryOperator<FakeGpu.Builder> change) {
    return FakeNvml.healthyH100().toBuilder().gpu(3, change::apply).build();
  }

  @Test
  void healthCountersComeThroughTheFields() {
    FakeNvml.write(gpu3(g -> g.eccTotal(EccCounterType.VOLATILE, MemoryErrorType.CORRECTED, 17)
        .eccTotal(EccCounterType.AGGREGATE, MemoryErrorType.UNCORRECTED, 2).retiredPagesPending(true)
        .pcieReplayCounter(41).remappedRows(5, 1, true, false)
        .recoveryAction(io.gpuwarden.nvml.GpuRecoveryAction.GPU_RESET)));

    NvmlGpuSource.Sample sample = source.sample(false);
    GpuSample g = sample.gpus().get(3);

    assertThat(g.getEccCorrectedVolatile()).isEqualTo(17);
    assertThat(g.getEccUncorrectedAggregate()).isEqualTo(2);
    assertThat(g.getRetiredPagesPending()).isTrue();
    assertThat(g.getPcieReplayCount()).isEqualTo(41);
    assertThat(g.getRemappedRowsCorrected()).isEqualTo(5);
    assertThat(g.getRemappedRowsUncorrected()).isEqualTo(1);
    assertThat(g.getRemapPending()).isTrue();
    assertThat(g.getRemapFailure()).isFalse();
    assertThat(g.getRecoveryAction()).isEqualTo(GpuRecoveryAction.GPU_RECOVERY_ACTION_GPU_RESET);
    assertThat(sample.events()).isEmpty();
  }

  @Test
  void aFailingFieldIsReportedUnderItsValueAndTheOthersAreStillRead() {
    FakeNvml.write(gpu3(g -> g.failField(NvmlFieldId.REMAPPED_PENDING, NvmlReturn.UNKNOWN).pcieReplayCounter(9)));

    NvmlGpuSource.Sample sample = source.sample(false);
    GpuSample g = sample.gpus().get(3);

    assertThat(g.hasRemappedRowsCorrected()).isFalse();
    assertThat(g.hasRemapPending()).isFalse();
    assertThat(g.getPcieReplayCount()).isEqualTo(9);
    assertThat(g.hasEccCorrectedVolatile()).isTrue();
    assertThat(sample.events()).singleElement().satisfies(e -> {
      assertThat(e.getMessage()).contains("nvmlDeviceGetFieldValues(field 144)").contains("UNKNOWN");
      assertThat(e.getComponent().getGpuIndex()).isEqualTo(3);
    });
  }

  @Test
  void aFieldTheDriverDoesNotSupportFallsBackToItsOwnFunction() {
    // An older driver: no field for these, the functions still answer.
    FakeNvml.write(gpu3(g -> g.failField(NvmlFieldId.ECC_SBE_VOLATILE_TOTAL, NvmlReturn.NOT_SUPPORTED)
        .failField(NvmlFieldId.REMAPPED_CORRECTED, NvmlReturn.NOT_SUPPORTED)
        .eccTotal(EccCounterType.VOLATILE, MemoryErrorType.CORRECTED, 23).remappedRows(4, 0, false, false)));

    NvmlGpuSource.Sample sample = source.sample(false);
    GpuSample g = sample.gpus().get(3);

    assertThat(g.getEccCorrectedVolatile()).isEqualTo(23);
    assertThat(g.getRemappedRowsCorrected()).isEqualTo(4);
    assertThat(sample.events()).isEmpty();
  }

  @Test
  void whatNeitherTheFieldNorTheFunctionSupportsIsLeftUnsetWithoutAnError() {
    FakeNvml.write(gpu3(g -> g.failField(NvmlFieldId.PCIE_REPLAY_COUNTER, NvmlReturn.NOT_SUPPORTED)
        .fail("nvmlDeviceGetPcieReplayCounter", NvmlReturn.NOT_SUPPORTED)));

    NvmlGpuSource.Sample sample = source.sample(false);

    assertThat(sample.gpus().get(3).hasPcieReplayCount()).isFalse();
    assertThat(sample.events()).isEmpty();
  }

  @Test
  void whenTheFieldCallFailsAsAWholeEachValueIsReadByItsFunctionAndTheFailureReported() {
    source.sample(true);
    FakeNvml.write(gpu3(g -> g.fail("nvmlDeviceGetFieldValues", NvmlReturn.UNKNOWN)
        .eccTotal(EccCounterType.AGGREGATE, MemoryErrorType.CORRECTED, 6).remappedRows(2, 0, false, false)));

    NvmlGpuSource.Sample sample = source.sample(true);
    GpuSample g = sample.gpus().get(3);

    assertThat(g.getEccCorrectedAggregate()).isEqualTo(6);
    assertThat(g.getRemappedRowsCorrected()).isEqualTo(2);
    assertThat(g.getNvlinksList()).as("NVML gives the link count only as a field").isEmpty();
    assertThat(g.getRecoveryAction()).as("only a field gives the recovery action")
        .isEqualTo(GpuRecoveryAction.GPU_RECOVERY_ACTION_UNSPECIFIED);
    assertThat(sample.events()).extracting(Event::getMessage)
        .anySatisfy(m -> assertThat(m).contains("nvmlDeviceGetFieldValues failed").contains("UNKNOWN"));
  }

  @Test
  void aGpuLostInTheFieldCallIsSampledAsLost() {
    source.sample(true);
    FakeNvml.write(gpu3(g -> g.fail("nvmlDeviceGetFieldValues", NvmlReturn.GPU_IS_LOST)));

    GpuSample g = source.sample(false).gpus().get(3);

    assertThat(g.getLost()).isTrue();
    assertThat(g.getUnavailableReason()).contains("nvmlDeviceGetFieldValues").contains("GPU_IS_LOST");
  }

  @Test
  void linkStatesComeFromTheStateFieldOrItsFunction() {
    FakeNvml.write(gpu3(g -> g.nvlinkUp(5, false)));
    List<io.gpuwarden.proto.v1.NvlinkSample> viaField = source.sample(true).gpus().get(3).getNvlinksList();
    assertThat(viaField).hasSize(18);
    assertThat(viaField.get(5).getActive()).isFalse();
    assertThat(viaField.get(6).getActive()).isTrue();

    FakeNvml.write(gpu3(g -> g.nvlinkUp(6, false).failField(NvmlFieldId.NVLINK_GET_STATE, NvmlReturn.NOT_SUPPORTED)));
    NvmlGpuSource.Sample viaFunction = source.sample(true);
    assertThat(viaFunction.gpus().get(3).getNvlinksList()).hasSize(18);
    assertThat(viaFunction.gpus().get(3).getNvlinks(5).getActive()).isTrue();
    assertThat(viaFunction.gpus().get(3).getNvlinks(6).getActive()).isFalse();
    assertThat(viaFunction.events()).isEmpty();
  }

  @Test
  void perLinkErrorCountersAreReadAgainOnlyWhenTheTotalsMove() {
    FakeNvml.write(gpu3(g -> g.nvlinkErrors(2, NvlinkErrorCounter.DL_REPLAY, 10)));
    assertThat(source.sample(true).gpus().get(3).getNvlinks(2).getReplayErrors()).isEqualTo(10);

    // The per-link calls would fail now; with the totals unchanged they are not made.
    FakeNvml.write(gpu3(g -> g.nvlinkErrors(2, NvlinkErrorCounter.DL_REPLAY, 10)
        .fail("nvmlDeviceGetNvLinkErrorCounter", NvmlReturn.UNKNOWN)));
    NvmlGpuSource.Sample unchanged = source.sample(true);
    assertThat(unchanged.events()).isEmpty();
    assertThat(unchanged.gpus().get(3).getNvlinks(2).getReplayErrors()).isEqualTo(10);

    // A total moved: every link is read again (and here the calls fail, and say so).
    FakeNvml.write(gpu3(g -> g.nvlinkErrors(2, NvlinkErrorCounter.DL_REPLAY, 10).nvlinkErrors(9, NvlinkErrorCounter.DL_CRC_DATA, 3)
        .fail("nvmlDeviceGetNvLinkErrorCounter", NvmlReturn.UNKNOWN)));
    NvmlGpuSource.Sample moved = source.sample(true);
    assertThat(moved.events()).extracting(Event::getMessage)
        .anySatisfy(m -> assertThat(m).contains("nvmlDeviceGetNvLinkErrorCounter").contains("UNKNOWN"));
    assertThat(moved.gpus().get(3).getNvlinks(2).getReplayErrors()).as("not read, not carried").isZero();

    // Calls answer again: the new per-link values are read, though the totals did not move since.
    FakeNvml.write(gpu3(g -> g.nvlinkErrors(2, NvlinkErrorCounter.DL_REPLAY, 10).nvlinkErrors(9, NvlinkErrorCounter.DL_CRC_DATA, 3)));
    GpuSample after = source.sample(true).gpus().get(3);
    assertThat(after.getNvlinks(9).getCrcDataErrors()).isEqualTo(3);
    assertThat(after.getNvlinks(2).getReplayErrors()).isEqualTo(10);
  }
}
