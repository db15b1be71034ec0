package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import jnr.ffi.byref.PointerByReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
            assertThat(nvml.driverVersion()).isEqualTo("550.54.15");
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

    /** Writes text the Java side would refuse to build, atomically like a well-behaved writer. */
    private static void replaceStateFileWith(String text) throws IOException {
        Path target = FakeNvmlEnvironment.stateFile();
        Path temporary = Files.writeString(target.resolveSibling(target.getFileName() + ".raw"), text);
        Files.setLastModifiedTime(temporary,
                FileTime.fromMillis(Files.getLastModifiedTime(target).toMillis() + 1000));
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
