package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import org.junit.jupiter.api.Test;

class NvmlFabricInfoTest {
    private static final String CLUSTER = "6f8b2a3c-1d4e-4f5a-9b6c-7d8e9f0a1b2c";

    @Test
    void theHealthyExampleIsRegisteredAndHealthyThroughVersion3() {
        install(FakeNvmlEnvironment.healthyH100Node());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            NvmlReading<GpuFabricInfo> reading = nvml.device(0).fabricInfo();

            assertThat(reading.function()).isEqualTo("nvmlDeviceGetGpuFabricInfoV");
            GpuFabricInfo info = reading.value();
            assertThat(info).isEqualTo(new GpuFabricInfo(FabricState.COMPLETED, NvmlReturn.SUCCESS, 1, CLUSTER, 0x1AA,
                    FabricHealthSummary.HEALTHY));
            assertThat(info.isRegistered()).isTrue();
            assertThat(FabricHealthField.DEGRADED_BANDWIDTH.flag(info.healthMask())).contains(false);
            assertThat(FabricHealthField.ROUTE_UNHEALTHY.flag(info.healthMask())).contains(false);
            assertThat(FabricHealthField.INCORRECT_CONFIGURATION.valueIn(info.healthMask()))
                    .isEqualTo(FabricHealthField.CONFIGURATION_NONE);
            assertThat(FabricHealthField.PARTITION_ASSIGNED.flag(info.healthMask())).isEmpty();
        }
    }

    @Test
    void theUnhealthyExampleReportsDegradedBandwidthWithLimitedCapacity() {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-unhealthy")));

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            GpuFabricInfo info = nvml.device(6).fabricInfo().value();

            assertThat(info.healthSummary()).isEqualTo(FabricHealthSummary.LIMITED_CAPACITY);
            assertThat(FabricHealthField.DEGRADED_BANDWIDTH.flag(info.healthMask())).contains(true);
            assertThat(FabricHealthField.ROUTE_RECOVERY.flag(info.healthMask())).contains(false);
        }
    }

    @Test
    void aDriverWithoutVersion3AnswersVersion2WithoutASummary() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(0, gpu -> gpu.fabricInfoMaxVersion(2)
                .fabric(FabricState.IN_PROGRESS, NvmlReturn.NOT_READY).fabricCliqueId(0x7FFE)
                .fabricClusterUuid("00112233-4455-6677-8899-AABBCCDDEEFF")).build());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.device(0).fabricInfo()).isEqualTo(NvmlReading.of("nvmlDeviceGetGpuFabricInfoV",
                    new GpuFabricInfo(FabricState.IN_PROGRESS, NvmlReturn.NOT_READY, 0x7FFE,
                            "00112233-4455-6677-8899-aabbccddeeff", 0x1AA, FabricHealthSummary.NOT_SUPPORTED)));
        }
    }

    @Test
    void aDriverWithoutTheVersionedCallAnswersThroughTheDeprecatedOne() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(1, gpu -> gpu.fabric(FabricState.COMPLETED, NvmlReturn.UNKNOWN).fabricCliqueId(-2)).build());

        try (Nvml nvml = Nvml.open(FakeNvmlEnvironment.legacyLibrary())) {
            NvmlReading<GpuFabricInfo> reading = nvml.device(1).fabricInfo();

            assertThat(reading.function()).isEqualTo("nvmlDeviceGetGpuFabricInfo");
            assertThat(reading.value()).isEqualTo(new GpuFabricInfo(FabricState.COMPLETED, NvmlReturn.UNKNOWN, -2,
                    CLUSTER, 0, FabricHealthSummary.NOT_SUPPORTED));
            assertThat(reading.value().isRegistered()).isFalse();
        }
    }

    @Test
    void aGpuOutsideAnNvswitchFabricIsNotSupported() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.fail("nvmlDeviceGetGpuFabricInfoV", NvmlReturn.NOT_SUPPORTED)).build());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.device(0).fabricInfo()).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetGpuFabricInfoV"));
        }
    }

    @Test
    void aProbeThatHasNotRunReportsItsState() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.fabric(FabricState.NOT_SUPPORTED, NvmlReturn.SUCCESS)
                        .fabricHealth(0, FabricHealthSummary.NOT_SUPPORTED))
                .gpu(1, gpu -> gpu.set("fabric_state", 9).set("fabric_health_summary", 200))
                .build());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            GpuFabricInfo none = nvml.device(0).fabricInfo().value();
            assertThat(none.state()).isEqualTo(FabricState.NOT_SUPPORTED);
            assertThat(none.healthMask()).isZero();
            assertThat(none.isRegistered()).isFalse();
            GpuFabricInfo newer = nvml.device(1).fabricInfo().value();
            assertThat(newer.state()).isEqualTo(FabricState.UNKNOWN);
            assertThat(newer.healthSummary()).isEqualTo(FabricHealthSummary.UNKNOWN);
        }
    }
}
