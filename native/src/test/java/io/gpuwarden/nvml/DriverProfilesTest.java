package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.gpuwarden.nvml.fake.FakeDriverProfile;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import jnr.ffi.Struct;
import jnr.ffi.byref.PointerByReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each driver profile's build of the fake, through the real FFI path: what it exports, which struct
 * versions and field ids it knows, which event types it reports and which versions it answers
 * (FAKE_NVML.md, "Driver profiles"). The expectations are written out here rather than taken from
 * {@link FakeDriverProfile}, so that the C profiles and this table check each other.
 */
class DriverProfilesTest {
    private static final Set<FakeDriverProfile> WITH_TEMPERATURE_V = EnumSet.of(FakeDriverProfile.R570,
            FakeDriverProfile.R580);
    private static final Set<FakeDriverProfile> WITH_RECOVERY_ACTION = EnumSet.of(FakeDriverProfile.R570,
            FakeDriverProfile.R580);

    private static Path library(FakeDriverProfile profile) {
        return profile.library(FakeNvmlEnvironment.fakeDirectory());
    }

    /** The healthy example as a node of {@code profile}. */
    private static FakeNvmlState healthy(FakeDriverProfile profile) {
        return FakeNvmlEnvironment.healthyH100Node().toBuilder().driverProfile(profile).build();
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void eachProfileIsItsOwnLibraryWithTheRealSoname(FakeDriverProfile profile) throws IOException {
        Path library = library(profile);
        assertThat(library).isRegularFile().hasFileName("libnvidia-ml.so.1");
        assertThat(library.getParent().getFileName()).hasToString("driver-" + profile.branch());
        assertThat(Files.isSameFile(library, FakeNvmlEnvironment.library()))
                .as("the default library is a copy of the newest profile, not the same file").isFalse();
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void answersItsBranchsVersionsWhenTheStateSetsNone(FakeDriverProfile profile) {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().clear("driver_profile").clear("driver_version")
                .clear("nvml_version").clear("cuda_driver_version").build());
        String[][] expected = {
            {"535.216.03", "12.535.216.03", "12.2"},
            {"550.54.15", "12.550.54.15", "12.4"},
            {"570.172.08", "12.570.172.08", "12.8"},
            {"580.65.06", "13.580.65.06", "13.0"}};
        try (Nvml nvml = Nvml.open(library(profile))) {
            String[] versions = expected[profile.ordinal()];
            assertThat(nvml.driverVersion()).isEqualTo(versions[0]).isEqualTo(profile.driverVersion());
            assertThat(nvml.nvmlVersion()).isEqualTo(versions[1]).isEqualTo(profile.nvmlVersion());
            assertThat(nvml.cudaDriverVersion()).hasToString(versions[2]);
            assertThat(nvml.cudaDriverVersion()).isEqualTo(CudaVersion.fromEncoded(profile.cudaDriverVersion()));
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void refusesAStateOfAnotherBranchLikeADriverUpgradedWithoutAReboot(FakeDriverProfile profile) throws IOException {
        FakeDriverProfile other = profile == FakeDriverProfile.R535 ? FakeDriverProfile.R580 : FakeDriverProfile.R535;
        long logStart = FakeNvmlEnvironment.logPosition();
        install(healthy(other));

        assertThatThrownBy(() -> Nvml.open(library(profile)))
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.LIB_RM_VERSION_MISMATCH));
        assertThat(FakeNvmlEnvironment.logSince(logStart)).contains("driver_profile is driver " + other.branch()
                + ", but this library is the driver " + profile.branch() + " profile");

        install(healthy(profile).toBuilder().driverVersion(other.branch() + ".1.2").build());
        assertThatThrownBy(() -> Nvml.open(library(profile))).as("a driver version of another branch")
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.LIB_RM_VERSION_MISMATCH));

        install(healthy(profile));
        try (Nvml nvml = Nvml.open(library(profile))) {
            assertThat(nvml.deviceCount()).isEqualTo(8);
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void exportsTheTemperatureCallFromR570OnAndFallsBackBefore(FakeDriverProfile profile) {
        install(healthy(profile));
        NvmlBinding binding = NvmlBinding.loadFile(library(profile));
        binding.check("nvmlInit_v2", () -> binding.library().nvmlInit_v2());
        try {
            PointerByReference handle = new PointerByReference();
            binding.check("nvmlDeviceGetHandleByIndex_v2", () -> binding.library().nvmlDeviceGetHandleByIndex_v2(0, handle));
            TemperatureStruct temperature = new TemperatureStruct(binding.runtime());
            int code = binding.rawCall(() -> binding.library().nvmlDeviceGetTemperatureV(handle.getValue(), temperature));

            assertThat(NvmlReturn.fromCode(code)).isEqualTo(WITH_TEMPERATURE_V.contains(profile) ? NvmlReturn.SUCCESS
                    : NvmlReturn.FUNCTION_NOT_FOUND);
        } finally {
            binding.check("nvmlShutdown", () -> binding.library().nvmlShutdown());
        }
        try (Nvml nvml = Nvml.open(library(profile))) {
            NvmlReading<Integer> reading = nvml.device(0).temperatureCelsius();
            assertThat(reading).isEqualTo(NvmlReading.of(WITH_TEMPERATURE_V.contains(profile) ? "nvmlDeviceGetTemperatureV"
                    : "nvmlDeviceGetTemperature", 33));
        }
    }

    @ParameterizedTest
    @EnumSource(value = FakeDriverProfile.class, names = {"R535", "R550"})
    void aMissingSymbolIsTriedOnceNotOnEveryRead(FakeDriverProfile profile) {
        install(healthy(profile));
        NvmlBinding binding = NvmlBinding.loadFile(library(profile));
        binding.check("nvmlInit_v2", () -> binding.library().nvmlInit_v2());
        try {
            PointerByReference handle = new PointerByReference();
            binding.check("nvmlDeviceGetHandleByIndex_v2", () -> binding.library().nvmlDeviceGetHandleByIndex_v2(0, handle));
            TemperatureStruct temperature = new TemperatureStruct(binding.runtime());
            int[] tries = {0};
            for (int i = 0; i < 3; i++) {
                assertThat(binding.optionalCall("nvmlDeviceGetTemperatureV", () -> {
                    tries[0]++;
                    return binding.library().nvmlDeviceGetTemperatureV(handle.getValue(), temperature);
                })).isEqualTo(NvmlReturn.FUNCTION_NOT_FOUND.code());
            }
            assertThat(tries[0]).isEqualTo(1);
        } finally {
            binding.check("nvmlShutdown", () -> binding.library().nvmlShutdown());
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void hasTheCallsEveryBranchFrom535Has(FakeDriverProfile profile) {
        install(healthy(profile));
        try (Nvml nvml = Nvml.open(library(profile))) {
            NvmlDevice gpu = nvml.device(0);
            assertThat(gpu.clockEventReasons()).isEqualTo(NvmlReading.of("nvmlDeviceGetCurrentClocksEventReasons", 1L));
            assertThat(gpu.memoryInfo().value().reservedBytes()).as("nvmlDeviceGetMemoryInfo_v2").isEqualTo(579_862_528L);
            assertThat(gpu.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR).function())
                    .isEqualTo("nvmlDeviceGetRetiredPages_v2");
            assertThat(gpu.remappedRows().value()).isEqualTo(new RemappedRows(0, 0, false, false));
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void answersTheFabricStructVersionsItsBranchKnows(FakeDriverProfile profile) {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-unhealthy")).toBuilder()
                .driverProfile(profile).build());
        NvmlBinding binding = NvmlBinding.loadFile(library(profile));
        binding.check("nvmlInit_v2", () -> binding.library().nvmlInit_v2());
        try {
            PointerByReference handle = new PointerByReference();
            binding.check("nvmlDeviceGetHandleByIndex_v2", () -> binding.library().nvmlDeviceGetHandleByIndex_v2(6, handle));
            FabricInfoV3Struct v3 = binding.direct(new FabricInfoV3Struct(binding.runtime()));
            v3.version.set(FabricInfoV3Struct.VERSION);
            FabricInfoV2Struct v2 = binding.direct(new FabricInfoV2Struct(binding.runtime()));
            v2.version.set(FabricInfoV2Struct.VERSION);
            FabricInfoV2Struct v4 = binding.direct(new FabricInfoV2Struct(binding.runtime()));
            v4.version.set(0x0400002C);
            NvmlReturn asV3 = NvmlReturn.fromCode(binding.rawCall(() -> binding.library()
                    .nvmlDeviceGetGpuFabricInfoV(handle.getValue(), Struct.getMemory(v3))));
            NvmlReturn asV2 = NvmlReturn.fromCode(binding.rawCall(() -> binding.library()
                    .nvmlDeviceGetGpuFabricInfoV(handle.getValue(), Struct.getMemory(v2))));
            NvmlReturn asV4 = NvmlReturn.fromCode(binding.rawCall(() -> binding.library()
                    .nvmlDeviceGetGpuFabricInfoV(handle.getValue(), Struct.getMemory(v4))));

            switch (profile) {
                case R535 -> assertThat(List.of(asV3, asV2, asV4)).containsOnly(NvmlReturn.FUNCTION_NOT_FOUND);
                case R550, R570 -> assertThat(List.of(asV3, asV2, asV4)).containsExactly(
                        NvmlReturn.ARGUMENT_VERSION_MISMATCH, NvmlReturn.SUCCESS, NvmlReturn.ARGUMENT_VERSION_MISMATCH);
                case R580 -> assertThat(List.of(asV3, asV2, asV4)).containsExactly(
                        NvmlReturn.SUCCESS, NvmlReturn.SUCCESS, NvmlReturn.ARGUMENT_VERSION_MISMATCH);
                default -> throw new AssertionError(profile);
            }
        } finally {
            binding.check("nvmlShutdown", () -> binding.library().nvmlShutdown());
        }
        try (Nvml nvml = Nvml.open(library(profile))) {
            NvmlReading<GpuFabricInfo> reading = nvml.device(6).fabricInfo();
            GpuFabricInfo info = reading.value();
            assertThat(info.isRegistered()).isTrue();
            switch (profile) {
                case R535 -> {
                    assertThat(reading.function()).isEqualTo("nvmlDeviceGetGpuFabricInfo");
                    assertThat(info.healthMask()).isZero();
                    assertThat(info.healthSummary()).isEqualTo(FabricHealthSummary.NOT_SUPPORTED);
                }
                case R550 -> {
                    assertThat(info.healthMask()).as("only the degraded-bandwidth field before R570").isEqualTo(0x1);
                    assertThat(FabricHealthField.DEGRADED_BANDWIDTH.flag(info.healthMask())).contains(true);
                    assertThat(FabricHealthField.ROUTE_UNHEALTHY.flag(info.healthMask())).isEmpty();
                    assertThat(info.healthSummary()).isEqualTo(FabricHealthSummary.NOT_SUPPORTED);
                }
                case R570 -> {
                    assertThat(info.healthMask()).isEqualTo(0x1A9);
                    assertThat(info.healthSummary()).isEqualTo(FabricHealthSummary.NOT_SUPPORTED);
                }
                case R580 -> {
                    assertThat(info.healthMask()).isEqualTo(0x1A9);
                    assertThat(info.healthSummary()).isEqualTo(FabricHealthSummary.LIMITED_CAPACITY);
                }
                default -> throw new AssertionError(profile);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void answersAFieldIdItsDriverDoesNotKnowInvalidArgumentInThatEntryOnly(FakeDriverProfile profile) {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-unhealthy")).toBuilder()
                .driverProfile(profile).build());
        int[] fieldIdLimits = {197, 200, 251, 274};
        int limit = fieldIdLimits[profile.ordinal()];
        try (Nvml nvml = Nvml.open(library(profile))) {
            NvmlDevice gpu = nvml.device(2);
            List<FieldValue> values = gpu.fieldValues(List.of(FieldRequest.of(NvmlFieldId.ECC_DBE_VOLATILE_TOTAL),
                    FieldRequest.of(NvmlFieldId.GPU_RECOVERY_ACTION), FieldRequest.of(limit - 1), FieldRequest.of(limit),
                    new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 17), new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 18)));

            NvmlReturn recovery = WITH_RECOVERY_ACTION.contains(profile) ? NvmlReturn.SUCCESS : NvmlReturn.INVALID_ARGUMENT;
            assertThat(values).extracting(FieldValue::fieldId, FieldValue::scopeId, FieldValue::result, FieldValue::value)
                    .containsExactly(
                            tuple(4, 0, NvmlReturn.SUCCESS, Optional.of(2L)),
                            tuple(230, 0, recovery, recovery == NvmlReturn.SUCCESS ? Optional.of(1L) : Optional.empty()),
                            tuple(limit - 1, 0, NvmlReturn.NOT_SUPPORTED, Optional.empty()),
                            tuple(limit, 0, NvmlReturn.INVALID_ARGUMENT, Optional.empty()),
                            tuple(165, 17, NvmlReturn.SUCCESS, Optional.of(1L)),
                            tuple(165, 18, NvmlReturn.INVALID_ARGUMENT, Optional.empty()));
            assertThat(profile.fieldIdLimit()).isEqualTo(limit);
            assertThat(gpu.gpuRecoveryAction()).isEqualTo(WITH_RECOVERY_ACTION.contains(profile)
                    ? NvmlReading.of("nvmlDeviceGetFieldValues", GpuRecoveryAction.GPU_RESET)
                    : NvmlReading.notSupported("nvmlDeviceGetFieldValues"));
            assertThatThrownBy(() -> gpu.nvlinkState(18)).as("NVML_NVLINK_MAX_LINKS is 18 up to R580")
                    .isInstanceOfSatisfying(NvmlException.class,
                            e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));
        }
    }

    @ParameterizedTest
    @EnumSource(FakeDriverProfile.class)
    void reportsAndRegistersOnlyTheEventTypesItsBranchKnows(FakeDriverProfile profile) {
        install(healthy(profile));
        long known = profile == FakeDriverProfile.R535 || profile == FakeDriverProfile.R550 ? 0x19FL : 0xFF9FL;
        try (Nvml nvml = Nvml.open(library(profile)); NvmlEventSet events = nvml.createEventSet()) {
            NvmlDevice gpu = nvml.device(0);
            assertThat(gpu.supportedEventTypes().value()).as("the state says 0xFF9F").isEqualTo(known)
                    .isEqualTo(profile.eventTypes());
            assertThat(events.register(gpu, NvmlEventType.XID_CRITICAL_ERROR)).isTrue();
            assertThat(events.register(gpu, NvmlEventType.GPU_RECOVERY_ACTION)).isEqualTo(known == 0xFF9FL);
            assertThat(events.register(gpu, NvmlEventType.SINGLE_BIT_ECC_ERROR_STORM)).isEqualTo(known == 0xFF9FL);
        }
    }
}
