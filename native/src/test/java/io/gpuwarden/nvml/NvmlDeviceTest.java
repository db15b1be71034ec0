package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeGpu;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NvmlDeviceTest {
    private static final long MIB = 1024L * 1024;

    /** Two GPUs whose every value differs, so a query reading the wrong field or GPU shows. */
    private static final FakeNvmlState TWO_GPUS = FakeNvmlState.builder()
            .gpu(FakeGpu.builder(0)
                    .name("NVIDIA H100 80GB HBM3")
                    .uuid("GPU-0b8e9d27-5f1a-4c3e-9a61-2f7d1c0e4b5a")
                    .serial("1654922001234")
                    .pciBusId("00000000:18:00.0")
                    .pciDeviceId(0x233010DE)
                    .pciSubsystemId(0x16C110DE)
                    .temperatureCelsius(41)
                    .powerUsageMilliwatts(312_456)
                    .powerLimitMilliwatts(700_000)
                    .utilization(87, 45)
                    .memory(81559 * MIB, 553 * MIB, 40_000 * MIB)
                    .clockMhz(ClockType.GRAPHICS, 1980)
                    .clockMhz(ClockType.SM, 1975)
                    .clockMhz(ClockType.MEMORY, 2619)
                    .clockMhz(ClockType.VIDEO, 1755)
                    .build())
            .gpu(FakeGpu.builder(1)
                    .name("NVIDIA A100-SXM4-40GB")
                    .uuid("GPU-77aa0c31-1e2d-4f5b-8c9d-0a1b2c3d4e5f")
                    .serial("1324520009876")
                    .pciBusId("0001:B7:1F.0")
                    .pciDeviceId(0xA00010DE)
                    .pciSubsystemId(0x145F10DE)
                    .temperatureCelsius(29)
                    .powerUsageMilliwatts(55_000)
                    .powerLimitMilliwatts(400_000)
                    .utilization(3, 1)
                    .memory(40_960 * MIB, 0, 0)
                    .clockMhz(ClockType.GRAPHICS, 210)
                    .clockMhz(ClockType.SM, 211)
                    .clockMhz(ClockType.MEMORY, 1215)
                    .clockMhz(ClockType.VIDEO, 585)
                    .build())
            .build();

    private Nvml nvml;

    @BeforeEach
    void openNvml() {
        install(TWO_GPUS);
        nvml = FakeNvmlEnvironment.open();
    }

    @AfterEach
    void closeNvml() {
        nvml.close();
    }

    @Test
    void readsEveryValueTheStateGivesTheFirstGpu() {
        NvmlDevice gpu = nvml.device(0);

        assertThat(gpu.index()).isZero();
        assertThat(gpu.name().value()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(gpu.uuid().value()).isEqualTo("GPU-0b8e9d27-5f1a-4c3e-9a61-2f7d1c0e4b5a");
        assertThat(gpu.serial().value()).isEqualTo("1654922001234");
        assertThat(gpu.pciInfo().value()).isEqualTo(
                new PciInfo("00000000:18:00.0", "0000:18:00.0", 0, 0x18, 0, 0x233010DE, 0x16C110DE));
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(41);
        assertThat(gpu.powerUsageMilliwatts().value()).isEqualTo(312_456);
        assertThat(gpu.enforcedPowerLimitMilliwatts().value()).isEqualTo(700_000);
        assertThat(gpu.utilization().value()).isEqualTo(new Utilization(87, 45));
        assertThat(gpu.memoryInfo().value()).isEqualTo(
                new MemoryInfo(81559 * MIB, 553 * MIB, (81559 - 553 - 40_000) * MIB, 40_000 * MIB));
        assertThat(gpu.clockMhz(ClockType.GRAPHICS).value()).isEqualTo(1980);
        assertThat(gpu.clockMhz(ClockType.SM).value()).isEqualTo(1975);
        assertThat(gpu.clockMhz(ClockType.MEMORY).value()).isEqualTo(2619);
        assertThat(gpu.clockMhz(ClockType.VIDEO).value()).isEqualTo(1755);
    }

    @Test
    void readsTheSecondGpuFromItsOwnHandle() {
        NvmlDevice gpu = nvml.device(1);

        assertThat(gpu.name().value()).isEqualTo("NVIDIA A100-SXM4-40GB");
        PciInfo pci = gpu.pciInfo().value();
        assertThat(pci).isEqualTo(new PciInfo("00000001:B7:1F.0", "0001:B7:1F.0", 1, 0xB7, 0x1F, 0xA00010DE, 0x145F10DE));
        assertThat(pci.vendorId()).isEqualTo(PciInfo.NVIDIA_VENDOR_ID);
        assertThat(pci.deviceId()).isEqualTo(0xA000);
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(29);
        assertThat(gpu.utilization().value()).isEqualTo(new Utilization(3, 1));
        assertThat(gpu.memoryInfo().value()).isEqualTo(new MemoryInfo(40_960 * MIB, 0, 40_960 * MIB, 0));
        assertThat(gpu.clockMhz(ClockType.VIDEO).value()).isEqualTo(585);
    }

    @Test
    void readsTheShippedHgxH100Example() {
        install(FakeNvmlEnvironment.healthyH100Node());

        assertThat(nvml.deviceCount()).isEqualTo(8);
        List<String> busIds = Stream.iterate(0, i -> i + 1).limit(8)
                .map(i -> nvml.device(i).pciInfo().value().busId()).toList();
        assertThat(busIds).containsExactly("00000000:18:00.0", "00000000:2A:00.0", "00000000:3A:00.0",
                "00000000:5D:00.0", "00000000:9A:00.0", "00000000:AB:00.0", "00000000:BA:00.0", "00000000:DB:00.0");
        NvmlDevice gpu = nvml.device(7);
        assertThat(gpu.name().value()).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(gpu.pciInfo().value().deviceId()).isEqualTo(0x2330);
        assertThat(gpu.temperatureCelsius().value()).isBetween(30, 40);
        assertThat(gpu.powerUsageMilliwatts().value()).isBetween(60_000, 80_000);
        assertThat(gpu.enforcedPowerLimitMilliwatts().value()).isEqualTo(700_000);
        assertThat(gpu.memoryInfo().value().totalBytes()).isEqualTo(81559 * MIB);
    }

    @Test
    void findsTheSameGpuByUuid() {
        NvmlDevice gpu = nvml.deviceByUuid("GPU-77aa0c31-1e2d-4f5b-8c9d-0a1b2c3d4e5f");

        assertThat(gpu.index()).isEqualTo(1);
        assertThat(gpu.name().value()).isEqualTo("NVIDIA A100-SXM4-40GB");
    }

    @Test
    void findsTheSameGpuByPciBusIdInEveryFormNvmlAccepts() {
        for (String busId : List.of("00000001:B7:1F.0", "0001:b7:1f.0", "00000001:B7:1F")) {
            assertThat(nvml.deviceByPciBusId(busId).index()).as(busId).isEqualTo(1);
        }
        assertThat(nvml.deviceByPciBusId("18:00.0").index()).isZero();
    }

    @Test
    void unknownUuidAndBusIdAreNotFound() {
        assertThatThrownBy(() -> nvml.deviceByUuid("GPU-00000000-dead-beef-0000-000000000000"))
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.NOT_FOUND);
                    assertThat(e.function()).isEqualTo("nvmlDeviceGetHandleByUUID");
                });
        assertThatThrownBy(() -> nvml.deviceByPciBusId("00000000:19:00.0"))
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.NOT_FOUND));
    }

    @Test
    void malformedBusIdIsAnInvalidArgument() {
        assertThatThrownBy(() -> nvml.deviceByPciBusId("not-a-bus-id"))
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));
    }

    @Test
    void indexPastTheLastGpuIsAnInvalidArgument() {
        assertThatThrownBy(() -> nvml.device(2))
                .isInstanceOf(NvmlException.class)
                .hasMessage("nvmlDeviceGetHandleByIndex_v2 failed: NVML_ERROR_INVALID_ARGUMENT (2): Invalid Argument");
        assertThatThrownBy(() -> nvml.device(-1))
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));
    }

    static Stream<Arguments> queries() {
        return Stream.of(
                query("nvmlDeviceGetName", NvmlDevice::name),
                query("nvmlDeviceGetUUID", NvmlDevice::uuid),
                query("nvmlDeviceGetSerial", NvmlDevice::serial),
                query("nvmlDeviceGetPciInfo_v3", NvmlDevice::pciInfo),
                query("nvmlDeviceGetTemperatureV", NvmlDevice::temperatureCelsius),
                query("nvmlDeviceGetPowerUsage", NvmlDevice::powerUsageMilliwatts),
                query("nvmlDeviceGetEnforcedPowerLimit", NvmlDevice::enforcedPowerLimitMilliwatts),
                query("nvmlDeviceGetUtilizationRates", NvmlDevice::utilization),
                query("nvmlDeviceGetMemoryInfo_v2", NvmlDevice::memoryInfo),
                query("nvmlDeviceGetClockInfo", gpu -> gpu.clockMhz(ClockType.SM)),
                query("nvmlDeviceGetEccMode", NvmlDevice::eccMode),
                query("nvmlDeviceGetTotalEccErrors",
                        gpu -> gpu.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE)),
                query("nvmlDeviceGetMemoryErrorCounter", gpu -> gpu.memoryErrorCounter(MemoryErrorType.CORRECTED,
                        EccCounterType.AGGREGATE, MemoryLocation.DRAM)),
                query("nvmlDeviceGetRetiredPages_v2",
                        gpu -> gpu.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR)),
                query("nvmlDeviceGetRetiredPagesPendingStatus", NvmlDevice::retiredPagesPending),
                query("nvmlDeviceGetRemappedRows", NvmlDevice::remappedRows),
                query("nvmlDeviceGetCurrentClocksEventReasons", NvmlDevice::clockEventReasons),
                query("nvmlDeviceGetPcieReplayCounter", NvmlDevice::pcieReplayCounter),
                query("nvmlDeviceGetCurrPcieLinkGeneration", NvmlDevice::pcieLinkGeneration),
                query("nvmlDeviceGetMaxPcieLinkGeneration", NvmlDevice::pcieLinkGenerationMax),
                query("nvmlDeviceGetCurrPcieLinkWidth", NvmlDevice::pcieLinkWidth),
                query("nvmlDeviceGetMaxPcieLinkWidth", NvmlDevice::pcieLinkWidthMax),
                query("nvmlDeviceGetNvLinkState", gpu -> gpu.nvlinkState(3)),
                query("nvmlDeviceGetNvLinkErrorCounter", gpu -> gpu.nvlinkErrorCounter(3, NvlinkErrorCounter.DL_REPLAY)),
                query("nvmlDeviceGetFieldValues", NvmlDevice::nvlinkLinkCount),
                query("nvmlDeviceGetPersistenceMode", NvmlDevice::persistenceMode),
                query("nvmlDeviceGetPerformanceState", NvmlDevice::performanceState),
                query("nvmlDeviceGetGpuFabricInfoV", NvmlDevice::fabricInfo),
                query("nvmlDeviceGetSupportedEventTypes", NvmlDevice::supportedEventTypes));
    }

    private static Arguments query(String function, Function<NvmlDevice, NvmlReading<?>> call) {
        return Arguments.of(function, call);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("queries")
    void notSupportedIsATypedReadingNamingTheFunction(String function, Function<NvmlDevice, NvmlReading<?>> query) {
        install(TWO_GPUS.toBuilder().gpu(1, gpu -> gpu.fail(function, NvmlReturn.NOT_SUPPORTED)).build());

        NvmlReading<?> reading = query.apply(nvml.device(1));

        assertThat(reading.isSupported()).isFalse();
        assertThat(reading.function()).isEqualTo(function);
        assertThatThrownBy(reading::value).isInstanceOf(IllegalStateException.class).hasMessageContaining(function);
        assertThat(query.apply(nvml.device(0)).isSupported()).as("the other GPU").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("queries")
    void aLostGpuThrowsWithNvmlsNameAndMessage(String function, Function<NvmlDevice, NvmlReading<?>> query) {
        install(TWO_GPUS.toBuilder().gpu(0, gpu -> gpu.fail(function, NvmlReturn.GPU_IS_LOST)).build());
        NvmlDevice gpu = nvml.device(0);

        assertThatThrownBy(() -> query.apply(gpu))
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.GPU_IS_LOST);
                    assertThat(e.rawCode()).isEqualTo(15);
                    assertThat(e.function()).isEqualTo(function);
                    assertThat(e.nvmlMessage()).isEqualTo("GPU is lost");
                })
                .hasMessage(function + " failed: NVML_ERROR_GPU_IS_LOST (15): GPU is lost");
    }

    @Test
    void aCodeNewerThanThisLibraryIsUnknownButKeepsItsNumber() {
        install(TWO_GPUS.toBuilder().gpu(0, gpu -> gpu.fail("nvmlDeviceGetPowerUsage", "1234")).build());

        assertThatThrownBy(() -> nvml.device(0).powerUsageMilliwatts())
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.UNKNOWN);
                    assertThat(e.rawCode()).isEqualTo(1234);
                })
                .hasMessage("nvmlDeviceGetPowerUsage failed: NVML_ERROR_UNKNOWN (1234): Unknown Error");
    }

    @Test
    void aNodeWideFaultHitsEveryGpu() {
        install(TWO_GPUS.toBuilder().fail("nvmlDeviceGetClockInfo", NvmlReturn.TIMEOUT).build());

        for (int i = 0; i < 2; i++) {
            NvmlDevice gpu = nvml.device(i);
            assertThatThrownBy(() -> gpu.clockMhz(ClockType.MEMORY))
                    .isInstanceOfSatisfying(NvmlException.class,
                            e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.TIMEOUT));
        }
    }

    @Test
    void temperatureComesFromTemperatureVWhenTheDriverHasIt() {
        install(TWO_GPUS.toBuilder().gpu(0, gpu -> gpu.fail("nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN)).build());

        assertThat(nvml.device(0).temperatureCelsius()).isEqualTo(NvmlReading.of("nvmlDeviceGetTemperatureV", 41));
    }

    @ParameterizedTest
    @MethodSource("olderDriverAnswers")
    void temperatureFallsBackToTheDeprecatedCallOnOlderDrivers(NvmlReturn answer) {
        install(TWO_GPUS.toBuilder().gpu(0, gpu -> gpu.fail("nvmlDeviceGetTemperatureV", answer)).build());

        assertThat(nvml.device(0).temperatureCelsius()).isEqualTo(NvmlReading.of("nvmlDeviceGetTemperature", 41));
    }

    @ParameterizedTest
    @MethodSource("olderDriverAnswers")
    void memoryFallsBackToVersionOneOnOlderDrivers(NvmlReturn answer) {
        install(TWO_GPUS.toBuilder().gpu(0, gpu -> gpu.fail("nvmlDeviceGetMemoryInfo_v2", answer)).build());

        NvmlReading<MemoryInfo> memory = nvml.device(0).memoryInfo();

        assertThat(memory.function()).isEqualTo("nvmlDeviceGetMemoryInfo");
        assertThat(memory.value()).isEqualTo(
                new MemoryInfo(81559 * MIB, 0, (81559 - 553 - 40_000) * MIB, (553 + 40_000) * MIB));
    }

    static Stream<NvmlReturn> olderDriverAnswers() {
        return Stream.of(NvmlReturn.FUNCTION_NOT_FOUND, NvmlReturn.ARGUMENT_VERSION_MISMATCH);
    }

    @Test
    void seesAChangedStateFileOnTheNextCallWithTheSameHandle() {
        NvmlDevice gpu = nvml.device(0);
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(41);

        install(TWO_GPUS.toBuilder().gpu(0, g -> g.temperatureCelsius(42)).build());
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(42);

        install(TWO_GPUS.toBuilder().gpu(0, g -> g.temperatureCelsius(43)).build());
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(43);
        assertThat(nvml.driverVersion()).isEqualTo("580.65.06");

        install(TWO_GPUS.toBuilder().driverVersion("580.82.07").build());
        assertThat(nvml.driverVersion()).isEqualTo("580.82.07");
        assertThat(gpu.temperatureCelsius().value()).isEqualTo(41);
    }

    @Test
    void aHandleToAGpuThatLeftTheStateBecomesInvalid() {
        NvmlDevice second = nvml.device(1);
        install(FakeNvmlState.builder().gpu(TWO_GPUS.gpu(0)).build());

        assertThat(nvml.deviceCount()).isEqualTo(1);
        assertThatThrownBy(second::name)
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));
    }

    @Test
    void readingFromManyThreadsAtOnceGivesEachThreadItsOwnAnswers() throws Exception {
        List<NvmlDevice> gpus = List.of(nvml.device(0), nvml.device(1));
        List<String> expected = List.of("GPU-0b8e9d27-5f1a-4c3e-9a61-2f7d1c0e4b5a", "GPU-77aa0c31-1e2d-4f5b-8c9d-0a1b2c3d4e5f");
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            int which = t % 2;
            threads.add(new Thread(() -> {
                try {
                    for (int i = 0; i < 500; i++) {
                        assertThat(gpus.get(which).uuid().value()).isEqualTo(expected.get(which));
                        assertThat(gpus.get(which).pciInfo().value().domain()).isEqualTo(which);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
    }
}
