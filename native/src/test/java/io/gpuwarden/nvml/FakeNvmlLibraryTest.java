package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.nvml.fake.TypedKeysFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import jnr.ffi.byref.PointerByReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What the fake libnvidia-ml.so.1 itself promises beyond NVML's API (FAKE_NVML.md). */
class FakeNvmlLibraryTest {

    @BeforeEach
    void installHealthyNode() {
        install(FakeNvmlEnvironment.healthyH100Node());
    }

    @Test
    void aStateFileThatNoLongerParsesKeepsThePreviousStateAndSaysWhyOnce() throws IOException {
        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            NvmlDevice gpu = nvml.device(0);
            assertThat(gpu.temperatureCelsius().value()).isEqualTo(33);
            long logStart = FakeNvmlEnvironment.logPosition();

            replaceStateFileWith("# broken\ngpu.0.temperature_c = warm\n");
            assertThat(gpu.temperatureCelsius().value()).isEqualTo(33);
            assertThat(gpu.temperatureCelsius().value()).isEqualTo(33);
            assertThat(FakeNvmlEnvironment.logSince(logStart)).isEqualTo("fake NVML: " + FakeNvmlEnvironment.stateFile()
                    + ":2: temperature_c must be a decimal integer, not 'warm'; keeping the previous state\n");

            install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(0, g -> g.temperatureCelsius(90)).build());
            assertThat(gpu.temperatureCelsius().value()).isEqualTo(90);
        }
    }

    @Test
    void aStateFileThatDisappearsAfterInitKeepsThePreviousState() throws IOException {
        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            Files.delete(FakeNvmlEnvironment.stateFile());

            assertThat(nvml.deviceCount()).isEqualTo(8);
        }
    }

    @Test
    void anInvalidStateFileFailsInitAsAnUnloadedDriver() throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        replaceStateFileWith("gpu.0.name = a\ngpu.2.name = c\n");

        assertThatThrownBy(FakeNvmlEnvironment::open)
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.DRIVER_NOT_LOADED));
        assertThat(FakeNvmlEnvironment.logSince(logStart)).isEqualTo("fake NVML: " + FakeNvmlEnvironment.stateFile()
                + ": GPU indexes must run from 0 without gaps, but gpu.1 has no keys while gpu.2 has\n");
    }

    @Test
    void aMissingStateFileAtInitIsExplained() throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        Files.delete(FakeNvmlEnvironment.stateFile());

        assertThatThrownBy(FakeNvmlEnvironment::open).isInstanceOf(NvmlException.class);
        assertThat(FakeNvmlEnvironment.logSince(logStart)).isEqualTo("fake NVML: GPUWARDEN_FAKE_NVML_STATE="
                + FakeNvmlEnvironment.stateFile() + ": No such file or directory\n");
    }

    @Test
    void unknownKeysAreIgnoredWithAWarningAndDefaultsFillWhatIsNotSet() throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        install(FakeNvmlState.builder().set("ecc_mode_someday", "on").fail("nvmlDeviceGetFanSpeed", "NOT_SUPPORTED")
                .gpu(0, gpu -> gpu.set("xid_someday", 79)).build());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            NvmlDevice gpu = nvml.device(0);
            assertThat(nvml.deviceCount()).isEqualTo(1);
            assertThat(nvml.driverVersion()).as("the default library's profile, R580").isEqualTo("580.65.06");
            assertThat(gpu.name().value()).isEqualTo("NVIDIA H100 80GB HBM3");
            assertThat(gpu.pciInfo().value().busId()).isEqualTo("00000000:01:00.0");
            assertThat(gpu.uuid().value()).isEqualTo("GPU-00000000-0000-0000-0000-000000000000");
        }
        String file = FakeNvmlEnvironment.stateFile().toString();
        assertThat(FakeNvmlEnvironment.logSince(logStart)).isEqualTo(
                "fake NVML: " + file + ":2: warning: unknown key 'ecc_mode_someday' (ignored)\n"
                + "fake NVML: " + file + ":3: warning: unknown NVML function 'nvmlDeviceGetFanSpeed'"
                + " in key 'fail.nvmlDeviceGetFanSpeed' (ignored)\n"
                + "fake NVML: " + file + ":5: warning: unknown key 'gpu.0.xid_someday' (ignored)\n");
    }

    @Test
    void theShippedTemperatureExampleHidesOneGpusTemperature() {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-temperature-not-supported")));

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.device(5).temperatureCelsius()).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetTemperatureV"));
            assertThat(nvml.device(4).temperatureCelsius().value()).isEqualTo(34);
        }
    }

    @Test
    void anOlderDriverWithoutTheVersionedCallsStillAnswersThroughTheFallbacks() {
        try (Nvml nvml = Nvml.open(FakeNvmlEnvironment.legacyLibrary())) {
            NvmlDevice gpu = nvml.device(0);

            assertThat(gpu.temperatureCelsius()).isEqualTo(NvmlReading.of("nvmlDeviceGetTemperature", 33));
            MemoryInfo memory = gpu.memoryInfo().value();
            assertThat(memory.reservedBytes()).isZero();
            assertThat(memory.usedBytes()).isEqualTo(579_862_528L + 4_194_304L);
            assertThat(memory.totalBytes() - memory.usedBytes()).isEqualTo(memory.freeBytes());
        }
    }

    @Test
    void callingASymbolTheLibraryLacksFailsAsFunctionNotFoundNamingIt() {
        try (Nvml nvml = Nvml.open(FakeNvmlEnvironment.legacyLibrary())) {
            NvmlBinding binding = NvmlBinding.loadFile(FakeNvmlEnvironment.legacyLibrary());
            PointerByReference handle = new PointerByReference();
            binding.check("nvmlDeviceGetHandleByIndex_v2", () -> binding.library().nvmlDeviceGetHandleByIndex_v2(0, handle));
            TemperatureStruct temperature = new TemperatureStruct(binding.runtime());

            assertThatThrownBy(() -> binding.check("nvmlDeviceGetTemperatureV",
                    () -> binding.library().nvmlDeviceGetTemperatureV(handle.getValue(), temperature)))
                    .isInstanceOfSatisfying(NvmlException.class, e -> {
                        assertThat(e.returnCode()).isEqualTo(NvmlReturn.FUNCTION_NOT_FOUND);
                        assertThat(e.function()).isEqualTo("nvmlDeviceGetTemperatureV");
                        assertThat(e.getCause()).isInstanceOf(UnsatisfiedLinkError.class);
                    })
                    .hasMessage("nvmlDeviceGetTemperatureV failed: NVML_ERROR_FUNCTION_NOT_FOUND (13): Function Not Found");
        }
    }

    @Test
    void theShippedExamplesAndEveryTypedBuilderKeyLoadWithoutAWarning() throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        for (String example : List.of("h100-8gpu-healthy", "h100-8gpu-degraded", "h100-8gpu-unhealthy",
                "h100-8gpu-temperature-not-supported")) {
            install(FakeNvmlState.parse(FakeNvmlEnvironment.example(example)));
            try (Nvml nvml = FakeNvmlEnvironment.open()) {
                assertThat(nvml.deviceCount()).as(example).isEqualTo(8);
            }
        }
        install(TypedKeysFixture.state());
        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.device(0).pcieLinkWidth().value()).isEqualTo(8);
        }

        assertThat(FakeNvmlEnvironment.logSince(logStart)).isEmpty();
    }

    static Stream<Arguments> invalidHealthValues() {
        return Stream.of(
                Arguments.of("gpu.0.ecc_mode = maybe", ":1: ecc_mode must be true or false (on/off, up/down), not 'maybe'"),
                Arguments.of("gpu.0.ecc.volatile.corrected.dram = lots",
                        ":1: ecc.volatile.corrected.dram must be a count or an NVML error name such as NOT_SUPPORTED, not 'lots'"),
                Arguments.of("gpu.0.retired_pages_dbe = 0x1000@soon",
                        ":1: retired_pages_dbe must be 'none' or addresses like 0x3c2a1000@1714560000000000, not '0x1000@soon'"),
                Arguments.of("gpu.0.fabric_state = DONE",
                        ":1: fabric_state must be one of NOT_SUPPORTED, NOT_STARTED, IN_PROGRESS, COMPLETED or a number, not 'DONE'"),
                Arguments.of("gpu.0.fabric_cluster_uuid = 6f8b2a3c1d4e4f5a9b6c7d8e9f0a1b2c",
                        ":1: fabric_cluster_uuid must look like 4a0a2c5e-6d55-4bd4-9a3c-0f1e2d3c4b5a, not '6f8b2a3c1d4e4f5a9b6c7d8e9f0a1b2c'"),
                Arguments.of("gpu.0.nvlink.40.state = up", ":1: 'gpu.0.nvlink.40.state' is not gpu.<index>.nvlink.<link 0..17>.<key>"),
                Arguments.of("gpu.0.nvlink.3.replay = -1", ":1: gpu.0.nvlink.3.replay must be an unsigned 64-bit number (decimal or 0x hex), not '-1'"),
                Arguments.of("gpu.0.nvlink_link_count = 4\ngpu.0.nvlink.5.state = down",
                        ": gpu.0.nvlink.5.* is set, but nvlink_link_count is 4"),
                Arguments.of("gpu.0.pstate = 16", ": gpu.0: pstate must be 0..15 or 32 (unknown), not 16"),
                Arguments.of("gpu.0.hang_ms = soon", ":1: hang_ms must be an unsigned 32-bit number (decimal or 0x hex), not 'soon'"),
                Arguments.of("hang.nvmlDeviceGetName = -5", ":1: hang.nvmlDeviceGetName must be milliseconds (an unsigned 32-bit number), not '-5'"),
                Arguments.of("gpu.0.name = a\nevent.3 = gpu=1 type=xid data=79", ": event.3 names gpu=1, but the state has 1 GPUs"),
                Arguments.of("event.3 = gpu=0 type=meltdown", ":1: event.3 must look like 'gpu=3 type=xid data=79 [gi=1 ci=0]'"
                        + " (type=<xid, double_bit_ecc, ... or a bit mask>): 'gpu=0 type=meltdown'"),
                Arguments.of("event.3 = type=xid data=79", ":1: event.3 must look like 'gpu=3 type=xid data=79 [gi=1 ci=0]'"
                        + " (no gpu= or no type=): 'type=xid data=79'"),
                Arguments.of("event.03 = gpu=0 type=xid", ":1: 'event.03' is not event.<id> with an id of 0..4294967295"),
                Arguments.of("gpu.0.fail_field.x = NOT_SUPPORTED", ":1: 'gpu.0.fail_field.x' is not gpu.<index>.fail_field.<field id>"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidHealthValues")
    void aHealthValueThatDoesNotParseIsReportedWithItsLine(String text, String message) throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        replaceStateFileWith(text + "\n");

        assertThatThrownBy(FakeNvmlEnvironment::open).isInstanceOfSatisfying(NvmlException.class,
                e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.DRIVER_NOT_LOADED));
        assertThat(FakeNvmlEnvironment.logSince(logStart))
                .isEqualTo("fake NVML: " + FakeNvmlEnvironment.stateFile() + message + "\n");
    }

    @Test
    void hangsOfUnknownFunctionsAndUnknownLinkKeysWarnLikeUnknownKeys() throws IOException {
        long logStart = FakeNvmlEnvironment.logPosition();
        install(FakeNvmlState.builder().hang("nvmlDeviceGetFanSpeed", 100)
                .gpu(0, gpu -> gpu.hang("nvmlDeviceGetFanSpeed", 100).set("nvlink.2.bandwidth", 7)).build());

        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.deviceCount()).isEqualTo(1);
        }
        String file = FakeNvmlEnvironment.stateFile().toString();
        assertThat(FakeNvmlEnvironment.logSince(logStart)).isEqualTo(
                "fake NVML: " + file + ":2: warning: unknown NVML function 'nvmlDeviceGetFanSpeed'"
                + " in key 'hang.nvmlDeviceGetFanSpeed' (ignored)\n"
                + "fake NVML: " + file + ":4: warning: unknown NVML function 'nvmlDeviceGetFanSpeed'"
                + " in key 'gpu.0.hang.nvmlDeviceGetFanSpeed' (ignored)\n"
                + "fake NVML: " + file + ":5: warning: unknown key 'gpu.0.nvlink.2.bandwidth' (ignored)\n");
    }

    /** Writes text the Java side would refuse to build, atomically like a well-behaved writer. */
    private static void replaceStateFileWith(String text) throws IOException {
        Path target = FakeNvmlEnvironment.stateFile();
        Path temporary = Files.writeString(target.resolveSibling(target.getFileName() + ".raw"), text);
        Files.setLastModifiedTime(temporary,
                FileTime.fromMillis(Files.getLastModifiedTime(target).toMillis() + 1000));
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
