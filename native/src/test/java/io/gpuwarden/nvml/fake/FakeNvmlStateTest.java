package io.gpuwarden.nvml.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.NvmlReturn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FakeNvmlStateTest {
    private static final Path EXAMPLES = Path.of(System.getProperty("gpuwarden.nativeDir", "."), "examples");

    private static final FakeNvmlState STATE = FakeNvmlState.builder()
            .driverVersion("550.54.15")
            .cudaDriverVersion(12040)
            .fail("nvmlDeviceGetCount_v2", NvmlReturn.TIMEOUT)
            .gpu(FakeGpu.builder(0).name("NVIDIA H100 80GB HBM3").pciBusId("00000000:18:00.0")
                    .pciDeviceId(0x233010DE).memory(85_520_809_984L, 579_862_528L, 0)
                    .clockMhz(ClockType.MEMORY, 2619).build())
            .gpu(1, gpu -> gpu.temperatureCelsius(-5).fail("nvmlDeviceGetTemperatureV", NvmlReturn.NOT_SUPPORTED))
            .build();

    @Test
    void rendersTheStateFileFormat() {
        assertThat(STATE.render()).isEqualTo("""
                # gpuwarden fake NVML state (native/FAKE_NVML.md). Replace this file atomically.
                driver_version = 550.54.15
                cuda_driver_version = 12040
                fail.nvmlDeviceGetCount_v2 = TIMEOUT

                gpu.0.name = NVIDIA H100 80GB HBM3
                gpu.0.pci_bus_id = 00000000:18:00.0
                gpu.0.pci_device_id = 0x233010DE
                gpu.0.memory_total_bytes = 85520809984
                gpu.0.memory_reserved_bytes = 579862528
                gpu.0.memory_used_bytes = 0
                gpu.0.clock_mem_mhz = 2619

                gpu.1.temperature_c = -5
                gpu.1.fail.nvmlDeviceGetTemperatureV = NOT_SUPPORTED
                """);
    }

    @Test
    void parsingTheRenderedTextGivesBackAnEqualState() {
        assertThat(FakeNvmlState.parse(STATE.render())).isEqualTo(STATE);
    }

    @Test
    void everyShippedExampleParsesAndRoundTrips() throws IOException {
        List<Path> examples;
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            examples = files.filter(file -> file.toString().endsWith(".state")).sorted().toList();
        }
        assertThat(examples).extracting(file -> file.getFileName().toString()).containsExactly(
                "h100-8gpu-driver-not-loaded.state", "h100-8gpu-healthy.state", "h100-8gpu-temperature-not-supported.state");
        for (Path file : examples) {
            FakeNvmlState state = FakeNvmlState.parse(file);
            assertThat(state.gpus()).as(file.toString()).hasSize(8);
            assertThat(FakeNvmlState.parse(state.render())).isEqualTo(state);
            String name = file.getFileName().toString().replace(".state", "");
            assertThat(FakeNvmlState.example(name)).as("the copy in the jar").isEqualTo(state);
        }
    }

    @Test
    void theHealthyExampleDescribesAnHgxH100Node() {
        FakeNvmlState state = FakeNvmlState.example("h100-8gpu-healthy");

        assertThat(state.setting("driver_version")).contains("550.54.15");
        assertThat(state.setting("cuda_driver_version")).contains("12040");
        assertThat(state.gpus()).extracting(gpu -> gpu.setting("pci_bus_id").orElseThrow()).containsExactly(
                "00000000:18:00.0", "00000000:2A:00.0", "00000000:3A:00.0", "00000000:5D:00.0",
                "00000000:9A:00.0", "00000000:AB:00.0", "00000000:BA:00.0", "00000000:DB:00.0");
        assertThat(state.gpus()).allSatisfy(gpu -> {
            assertThat(gpu.setting("uuid").orElseThrow()).matches("GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
            assertThat(gpu.setting("memory_total_bytes")).contains(String.valueOf(81559L * 1024 * 1024));
        });
        assertThat(state.gpus()).extracting(gpu -> gpu.setting("uuid").orElseThrow()).doesNotHaveDuplicates();
    }

    @Test
    void rejectsGpuIndexesWithGaps() {
        assertThatThrownBy(() -> FakeNvmlState.parse("gpu.0.name = a\ngpu.2.name = c\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without gaps");
    }

    @Test
    void rejectsAKeySetTwiceNamingTheLine() {
        assertThatThrownBy(() -> FakeNvmlState.parse("# header\ndriver_version = 1\n\ndriver_version = 2\n"))
                .hasMessage("state:4: key 'driver_version' is set twice");
    }

    @Test
    void rejectsLinesThatAreNotKeyValuePairs() {
        assertThatThrownBy(() -> FakeNvmlState.parse("gpu.0.name NVIDIA\n"))
                .hasMessage("state:1: expected 'key = value', got 'gpu.0.name NVIDIA'");
    }

    @Test
    void refusesValuesThatWouldNotSurviveTheFileFormat() {
        assertThatThrownBy(() -> FakeGpu.builder(0).name("two\nlines").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FakeGpu.builder(0).set("bad key", 1).build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void writesAtomicallyAndAlwaysMovesTheModificationTimeForward(@TempDir Path directory) throws IOException {
        Path file = directory.resolve("node.state");
        FileTime previous = null;
        for (int temperature = 30; temperature < 40; temperature++) {
            int celsius = temperature;
            STATE.toBuilder().gpu(1, gpu -> gpu.temperatureCelsius(celsius)).build().writeAtomically(file);

            assertThat(FakeNvmlState.parse(file).gpu(1).setting("temperature_c")).contains(String.valueOf(celsius));
            FileTime modified = Files.getLastModifiedTime(file);
            if (previous != null) {
                assertThat(modified).isGreaterThan(previous);
            }
            previous = modified;
        }
        try (Stream<Path> files = Files.list(directory)) {
            assertThat(files).containsExactly(file);
        }
    }
}
