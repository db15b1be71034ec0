package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ECC, retirement, remapping, clocks, PCIe, NVLink, persistence and pstate through the real FFI path. */
class NvmlHealthQueriesTest {
    private Nvml nvml;

    @BeforeEach
    void openHealthyNode() {
        install(FakeNvmlEnvironment.healthyH100Node());
        nvml = FakeNvmlEnvironment.open();
    }

    @AfterEach
    void closeNvml() {
        nvml.close();
    }

    private static void installExample(String name) {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example(name)));
    }

    @Test
    void theHealthyExampleReportsAHealthyH100() {
        for (int i = 0; i < 8; i++) {
            NvmlDevice gpu = nvml.device(i);
            assertThat(gpu.eccMode().value()).isEqualTo(new EccMode(true, true));
            for (MemoryErrorType type : MemoryErrorType.values()) {
                for (EccCounterType counter : EccCounterType.values()) {
                    assertThat(gpu.totalEccErrors(type, counter).value()).isZero();
                    assertThat(gpu.memoryErrorCounter(type, counter, MemoryLocation.DRAM).value()).isZero();
                }
            }
            assertThat(gpu.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR).value()).isEmpty();
            assertThat(gpu.retiredPagesPending().value()).isFalse();
            assertThat(gpu.remappedRows().value()).isEqualTo(new RemappedRows(0, 0, false, false));
            assertThat(ClockEventReason.decode(gpu.clockEventReasons().value()))
                    .containsExactly(ClockEventReason.GPU_IDLE);
            assertThat(List.of(gpu.pcieLinkGeneration().value(), gpu.pcieLinkGenerationMax().value(),
                    gpu.pcieLinkWidth().value(), gpu.pcieLinkWidthMax().value())).containsExactly(5, 5, 16, 16);
            assertThat(gpu.pcieReplayCounter().value()).isZero();
            assertThat(gpu.nvlinkLinkCount().value()).isEqualTo(18);
            for (int link = 0; link < 18; link++) {
                assertThat(gpu.nvlinkState(link).value()).as("GPU %d link %d", i, link).isTrue();
                assertThat(gpu.nvlinkErrorCounter(link, NvlinkErrorCounter.DL_CRC_FLIT).value()).isZero();
            }
            assertThat(gpu.persistenceMode().value()).isTrue();
            assertThat(gpu.performanceState().value()).isZero();
            assertThat(gpu.gpuRecoveryAction().value()).isEqualTo(GpuRecoveryAction.NONE);
            assertThat(gpu.supportedEventTypes().value()).isEqualTo(NvmlEventType.ALL);
        }
    }

    @Test
    void theDegradedExampleShowsANarrowLinkAThermalSlowdownAndCorrectedErrors() {
        installExample("h100-8gpu-degraded");

        assertThat(nvml.device(3).pcieLinkWidth().value()).isEqualTo(8);
        assertThat(nvml.device(3).pcieLinkWidthMax().value()).isEqualTo(16);
        assertThat(nvml.device(3).pcieReplayCounter().value()).isEqualTo(143);
        assertThat(ClockEventReason.decode(nvml.device(5).clockEventReasons().value()))
                .containsExactlyInAnyOrder(ClockEventReason.HW_SLOWDOWN, ClockEventReason.HW_THERMAL_SLOWDOWN);
        NvmlDevice gpu1 = nvml.device(1);
        assertThat(gpu1.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE).value()).isEqualTo(12);
        assertThat(gpu1.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE).value()).isEqualTo(30);
        assertThat(gpu1.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE).value()).isZero();
        assertThat(nvml.device(0).pcieLinkWidth().value()).as("a healthy neighbour").isEqualTo(16);
    }

    @Test
    void theUnhealthyExampleShowsARemapFailureUncorrectedErrorsAndALinkDown() {
        installExample("h100-8gpu-unhealthy");

        NvmlDevice gpu2 = nvml.device(2);
        assertThat(gpu2.remappedRows().value()).isEqualTo(new RemappedRows(0, 8, false, true));
        assertThat(gpu2.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE).value())
                .as("the total follows the DRAM counter").isEqualTo(2);
        assertThat(gpu2.memoryErrorCounter(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE, MemoryLocation.DRAM)
                .value()).isEqualTo(2);
        assertThat(gpu2.gpuRecoveryAction().value()).isEqualTo(GpuRecoveryAction.GPU_RESET);
        NvmlDevice gpu6 = nvml.device(6);
        assertThat(gpu6.nvlinkState(7).value()).isFalse();
        assertThat(gpu6.nvlinkState(6).value()).isTrue();
        assertThat(gpu6.nvlinkErrorCounter(7, NvlinkErrorCounter.DL_REPLAY).value()).isEqualTo(214);
        assertThat(gpu6.nvlinkErrorCounter(7, NvlinkErrorCounter.DL_RECOVERY).value()).isEqualTo(3);
        assertThat(gpu6.nvlinkErrorCounter(7, NvlinkErrorCounter.DL_CRC_FLIT).value()).isEqualTo(57);
        assertThat(gpu6.nvlinkErrorCounter(7, NvlinkErrorCounter.DL_ECC_DATA).value()).isZero();
        assertThat(nvml.device(1).remappedRows().value().failure()).isFalse();
    }

    @Test
    void eccCountersAreReadPerLocationAndTotalledUnlessATotalIsGiven() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(0, gpu -> gpu
                .eccErrors(EccCounterType.AGGREGATE, MemoryErrorType.CORRECTED, MemoryLocation.DRAM, 7)
                .eccErrors(EccCounterType.AGGREGATE, MemoryErrorType.CORRECTED, MemoryLocation.L2_CACHE, 5)
                .eccErrors(EccCounterType.VOLATILE, MemoryErrorType.UNCORRECTED, MemoryLocation.SRAM, 1)
                .eccTotal(EccCounterType.VOLATILE, MemoryErrorType.UNCORRECTED, 0xFFFF_FFFF_FFFF_FFFEL)
                .eccErrors(EccCounterType.AGGREGATE, MemoryErrorType.CORRECTED, MemoryLocation.TEXTURE_MEMORY,
                        NvmlReturn.NOT_SUPPORTED))
                .build());
        NvmlDevice gpu = nvml.device(0);

        assertThat(gpu.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE).value()).isEqualTo(12);
        assertThat(gpu.memoryErrorCounter(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE, MemoryLocation.L2_CACHE)
                .value()).isEqualTo(5);
        assertThat(gpu.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE).value())
                .as("unsigned 64-bit, kept as long bits").isEqualTo(-2L);
        assertThat(gpu.memoryErrorCounter(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE,
                MemoryLocation.TEXTURE_MEMORY)).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetMemoryErrorCounter"));
        assertThat(gpu.memoryErrorCounter(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE, MemoryLocation.CBU)
                .value()).isZero();
    }

    @Test
    void withEccDisabledTheCountersAreNotSupportedButTheModeAnswers() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(4, gpu -> gpu.eccMode(false, true)
                        .eccErrors(EccCounterType.VOLATILE, MemoryErrorType.CORRECTED, MemoryLocation.DRAM, 3))
                .build());
        NvmlDevice gpu = nvml.device(4);

        assertThat(gpu.eccMode().value()).isEqualTo(new EccMode(false, true));
        assertThat(gpu.eccMode().value().changePending()).isTrue();
        assertThat(gpu.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE))
                .isEqualTo(NvmlReading.notSupported("nvmlDeviceGetTotalEccErrors"));
        assertThat(gpu.memoryErrorCounter(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE, MemoryLocation.DRAM)
                .isSupported()).isFalse();
    }

    @Test
    void retiredPagesComeWithTheirTimesThroughTheSizeQuery() {
        List<RetiredPage> doubleBit = List.of(new RetiredPage(0x3c2a1000L, 1_714_560_000_123_456L),
                new RetiredPage(0x7ff0_0000_0000L, 1_714_560_100_000_000L), new RetiredPage(0x1000L, 0));
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(2, gpu -> gpu
                .retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR, doubleBit)
                .retiredPages(PageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS, List.of(new RetiredPage(0x2000L, 5)))
                .retiredPagesPending(true))
                .build());
        NvmlDevice gpu = nvml.device(2);

        NvmlReading<List<RetiredPage>> pages = gpu.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR);
        assertThat(pages.function()).isEqualTo("nvmlDeviceGetRetiredPages_v2");
        assertThat(pages.value()).containsExactlyElementsOf(doubleBit);
        assertThat(gpu.retiredPages(PageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS).value())
                .containsExactly(new RetiredPage(0x2000L, 5));
        assertThat(gpu.retiredPagesPending().value()).isTrue();
    }

    @Test
    void retiredPagesFallBackToTheCallWithoutTimesOnOlderDrivers() {
        List<RetiredPage> pages = List.of(new RetiredPage(0xAB000L, 99), new RetiredPage(0xCD000L, 98));
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR, pages)).build());

        try (Nvml legacy = Nvml.open(FakeNvmlEnvironment.legacyLibrary())) {
            NvmlReading<List<RetiredPage>> read = legacy.device(0).retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR);

            assertThat(read.function()).isEqualTo("nvmlDeviceGetRetiredPages");
            assertThat(read.value()).containsExactly(new RetiredPage(0xAB000L, 0), new RetiredPage(0xCD000L, 0));
        }
    }

    @Test
    void theSizeQueryAsksAgainWhenTheListGrowsBetweenCalls() {
        NvmlBinding binding = NvmlBinding.loadFile(FakeNvmlEnvironment.library());
        Iterator<Integer> listLengths = List.of(3, 4, 4).iterator();
        List<Integer> capacities = new ArrayList<>();
        NvmlDevice.RetiredPagesCall growingList = (count, addresses, timestamps) -> {
            capacities.add(count[0]);
            int pages = listLengths.next();
            if (count[0] < pages) {
                count[0] = pages;
                return NvmlReturn.INSUFFICIENT_SIZE.code();
            }
            for (int i = 0; i < pages; i++) {
                addresses[i] = 0x1000L * (i + 1);
                timestamps[i] = 100 + i;
            }
            count[0] = pages;
            return NvmlReturn.SUCCESS.code();
        };

        // The size query said 2; buffers for 2 meet 3 pages, buffers for 3 meet 4, buffers for 4 fit.
        NvmlReading<List<RetiredPage>> pages = NvmlDevice.readRetiredPages(binding, "nvmlDeviceGetRetiredPages_v2",
                true, growingList, NvmlReturn.INSUFFICIENT_SIZE.code(), 2);

        assertThat(capacities).containsExactly(2, 3, 4);
        assertThat(pages.value()).containsExactly(new RetiredPage(0x1000L, 100), new RetiredPage(0x2000L, 101),
                new RetiredPage(0x3000L, 102), new RetiredPage(0x4000L, 103));
    }

    @Test
    void aListThatKeepsGrowingEndsInAnInsufficientSizeError() {
        NvmlBinding binding = NvmlBinding.loadFile(FakeNvmlEnvironment.library());
        List<Integer> capacities = new ArrayList<>();

        assertThatThrownBy(() -> NvmlDevice.readRetiredPages(binding, "nvmlDeviceGetRetiredPages_v2", true,
                (count, addresses, timestamps) -> {
                    capacities.add(count[0]);
                    count[0] = count[0] + 1;
                    return NvmlReturn.INSUFFICIENT_SIZE.code();
                }, NvmlReturn.INSUFFICIENT_SIZE.code(), 1))
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.INSUFFICIENT_SIZE);
                    assertThat(e.function()).isEqualTo("nvmlDeviceGetRetiredPages_v2");
                });
        assertThat(capacities).hasSize(NvmlDevice.RETIRED_PAGES_ATTEMPTS - 1);
    }

    @Test
    void clockEventReasonsFallBackToTheThrottleReasonsCall() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.clockEventReasons(ClockEventReason.SW_POWER_CAP,
                        ClockEventReason.SW_THERMAL_SLOWDOWN))
                .build());

        assertThat(nvml.device(0).clockEventReasons())
                .isEqualTo(NvmlReading.of("nvmlDeviceGetCurrentClocksEventReasons", 0x24L));
        try (Nvml legacy = Nvml.open(FakeNvmlEnvironment.legacyLibrary())) {
            assertThat(legacy.device(0).clockEventReasons())
                    .isEqualTo(NvmlReading.of("nvmlDeviceGetCurrentClocksThrottleReasons", 0x24L));
        }
    }

    @Test
    void aGpuWithoutNvlinkReportsItsLinksAsNotSupported() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(1, gpu -> gpu.nvlinkCount(0)).build());
        NvmlDevice gpu = nvml.device(1);

        assertThat(gpu.nvlinkLinkCount()).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetFieldValues"));
        assertThat(gpu.nvlinkState(0)).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetNvLinkState"));
        assertThat(gpu.nvlinkErrorCounter(0, NvlinkErrorCounter.DL_CRC_DATA).isSupported()).isFalse();
    }

    @Test
    void linksPastTheGpusCountAreNotSupportedAndImpossibleLinksAreInvalid() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(0, gpu -> gpu.nvlinkCount(12)).build());
        NvmlDevice gpu = nvml.device(0);

        assertThat(gpu.nvlinkLinkCount().value()).isEqualTo(12);
        assertThat(gpu.nvlinkState(11).value()).isTrue();
        assertThat(gpu.nvlinkState(12).isSupported()).isFalse();
        assertThatThrownBy(() -> gpu.nvlinkState(36))
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));
        assertThatThrownBy(() -> gpu.nvlinkState(-1)).isInstanceOf(NvmlException.class);
    }

    @Test
    void persistencePstateAndRecoveryActionFollowTheState() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(3, gpu -> gpu.persistenceMode(false).performanceState(8)
                        .recoveryAction(GpuRecoveryAction.DRAIN_AND_RESET))
                .gpu(4, gpu -> gpu.performanceState(32).recoveryAction(77))
                .build());

        assertThat(nvml.device(3).persistenceMode().value()).isFalse();
        assertThat(nvml.device(3).performanceState().value()).isEqualTo(8);
        assertThat(nvml.device(3).gpuRecoveryAction().value()).isEqualTo(GpuRecoveryAction.DRAIN_AND_RESET);
        assertThat(nvml.device(4).performanceState().value()).isEqualTo(32);
        assertThat(nvml.device(4).gpuRecoveryAction().value()).isEqualTo(GpuRecoveryAction.UNKNOWN);
    }

    @Test
    void supportedEventTypesFollowTheState() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.supportedEventTypes(NvmlEventType.XID_CRITICAL_ERROR | NvmlEventType.PSTATE))
                .build());

        assertThat(nvml.device(0).supportedEventTypes().value()).isEqualTo(0xCL);
        assertThat(nvml.device(1).supportedEventTypes().value()).isEqualTo(NvmlEventType.ALL);
    }
}
