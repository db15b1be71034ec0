package io.gpuwarden.nvml.fake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.GpuRecoveryAction;
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
                "h100-8gpu-degraded.state", "h100-8gpu-driver-not-loaded.state", "h100-8gpu-healthy.state",
                "h100-8gpu-temperature-not-supported.state", "h100-8gpu-unhealthy.state");
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

        assertThat(state.driverProfile()).contains(FakeDriverProfile.R580);
        assertThat(state.setting("driver_version")).contains("580.65.06");
        assertThat(state.setting("cuda_driver_version")).contains("13000");
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

    @Test
    void rendersTheHealthFabricEventAndFaultKeys() {
        assertThat(TypedKeysFixture.state().render()).isEqualTo("""
                # gpuwarden fake NVML state (native/FAKE_NVML.md). Replace this file atomically.
                hang.nvmlDeviceGetCount_v2 = 0
                event.7 = gpu=1 type=xid data=79
                event.8 = gpu=0 type=double_bit_ecc data=0
                event.9 = gpu=1 type=0x10000 data=3 gi=1 ci=0

                gpu.0.ecc_mode = off
                gpu.0.ecc_mode_pending = on
                gpu.0.ecc.volatile.uncorrected.dram = 2
                gpu.0.ecc.aggregate.corrected.texture_shm = NOT_SUPPORTED
                gpu.0.ecc.aggregate.uncorrected.total = 9
                gpu.0.retired_pages_dbe = 0x3c2a1000@1714560000000000, 0x1000
                gpu.0.retired_pages_sbe = none
                gpu.0.retired_pages_pending = true
                gpu.0.remapped_rows_corrected = 1
                gpu.0.remapped_rows_uncorrected = 8
                gpu.0.remapped_rows_pending = false
                gpu.0.remapped_rows_failure = true
                gpu.0.clock_event_reasons = 0x48
                gpu.0.pcie_replay_counter = 143
                gpu.0.pcie_link_gen = 4
                gpu.0.pcie_link_width = 8
                gpu.0.pcie_link_gen_max = 5
                gpu.0.pcie_link_width_max = 16
                gpu.0.nvlink_link_count = 18
                gpu.0.nvlink.7.state = down
                gpu.0.nvlink.7.crc_flit = 57
                gpu.0.persistence_mode = off
                gpu.0.pstate = 2
                gpu.0.fabric_state = COMPLETED
                gpu.0.fabric_status = SUCCESS
                gpu.0.fabric_clique_id = 32766
                gpu.0.fabric_cluster_uuid = 6f8b2a3c-1d4e-4f5a-9b6c-7d8e9f0a1b2c
                gpu.0.fabric_health_mask = 0x1a9
                gpu.0.fabric_health_summary = LIMITED_CAPACITY
                gpu.0.fabric_info_max_version = 2
                gpu.0.recovery_action = DRAIN_P2P
                gpu.0.supported_event_types = 0xff9f
                gpu.0.fail_field.230 = NO_PERMISSION
                gpu.0.lost = false
                gpu.0.vanished = false
                gpu.0.hang_ms = 0
                gpu.0.hang.nvmlDeviceGetName = 0

                gpu.1.recovery_action = 77
                """);
        assertThat(FakeNvmlState.parse(TypedKeysFixture.state().render())).isEqualTo(TypedKeysFixture.state());
    }

    @Test
    void theNextEventIdFollowsTheLargestOne() {
        assertThat(STATE.nextEventId()).isZero();
        assertThat(TypedKeysFixture.state().nextEventId()).isEqualTo(10);
        assertThat(FakeNvmlState.builder().xid(4_294_967_295L, 0, 79).build().nextEventId()).isEqualTo(4_294_967_296L);
    }

    @Test
    void refusesWhatTheFakeCouldNotRead() {
        assertThatThrownBy(() -> FakeNvmlState.builder().xid(-1, 0, 79)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FakeNvmlState.builder().xid(1L << 32, 0, 79)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FakeGpu.builder(0).recoveryAction(GpuRecoveryAction.UNKNOWN))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theDegradedAndUnhealthyExamplesDifferFromTheHealthyOneOnlyWhereTheySay() {
        FakeNvmlState healthy = FakeNvmlState.example("h100-8gpu-healthy");
        FakeNvmlState degraded = FakeNvmlState.example("h100-8gpu-degraded");
        FakeNvmlState unhealthy = FakeNvmlState.example("h100-8gpu-unhealthy");

        assertThat(changedGpus(healthy, degraded)).containsExactly(1, 3, 5);
        assertThat(changedGpus(healthy, unhealthy)).containsExactly(2, 6);
        assertThat(degraded.gpu(3).setting("pcie_link_width")).contains("8");
        assertThat(unhealthy.gpu(6).setting("nvlink.7.state")).contains("down");
        assertThat(unhealthy.gpu(2).setting("remapped_rows_failure")).contains("true");
    }

    private static List<Integer> changedGpus(FakeNvmlState from, FakeNvmlState to) {
        return from.gpus().stream().filter(gpu -> !gpu.equals(to.gpu(gpu.index()))).map(FakeGpu::index).toList();
    }
}
