package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Lost, hung and vanished GPUs, as the fake imitates them (FAKE_NVML.md, "Fault injection"). */
class NvmlFaultInjectionTest {
    private final FakeNvmlState healthy = FakeNvmlEnvironment.healthyH100Node();
    private final ExecutorService background = Executors.newCachedThreadPool();
    private Nvml nvml;

    @BeforeEach
    void openHealthyNode() {
        install(healthy);
        nvml = FakeNvmlEnvironment.open();
    }

    @AfterEach
    void closeEverything() throws InterruptedException {
        install(healthy); // ends any hang still blocking a background thread
        background.shutdownNow();
        assertThat(background.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        nvml.close();
    }

    private String uuidOf(int gpu) {
        return healthy.gpu(gpu).setting("uuid").orElseThrow();
    }

    private static long millisToRun(Supplier<?> call) {
        long start = System.nanoTime();
        call.get();
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    void aLostGpuAnswersGpuIsLostToEveryCallAndLookup() {
        NvmlDevice gpu = nvml.device(2);
        install(healthy.toBuilder().gpu(2, g -> g.lost(true)).build());

        for (Runnable call : new Runnable[] {gpu::name, gpu::remappedRows, gpu::fabricInfo, () -> nvml.device(2),
                () -> nvml.deviceByUuid(uuidOf(2)), () -> nvml.deviceByPciBusId("00000000:3A:00.0")}) {
            assertThatThrownBy(call::run).isInstanceOfSatisfying(NvmlException.class,
                    e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.GPU_IS_LOST));
        }
        assertThat(nvml.deviceCount()).as("a lost GPU is still counted").isEqualTo(8);
        assertThat(nvml.device(3).name().value()).isEqualTo("NVIDIA H100 80GB HBM3");
    }

    @Test
    void aHungGpuBlocksItsCallersButNotCallsForOtherGpus() throws Exception {
        NvmlDevice hung = nvml.device(1);
        NvmlDevice other = nvml.device(0);
        install(healthy.toBuilder().gpu(1, g -> g.hangMillis(2_000)).build());

        long start = System.nanoTime();
        Future<Integer> blocked = background.submit(() -> hung.temperatureCelsius().value());
        Thread.sleep(100);
        long otherMillis = millisToRun(() -> other.temperatureCelsius().value());
        boolean doneEarly = blocked.isDone();
        int temperature = blocked.get(10, TimeUnit.SECONDS);
        long hungMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(otherMillis).as("GPU 0 while GPU 1 hangs").isLessThan(500);
        assertThat(doneEarly).isFalse();
        assertThat(hungMillis).isBetween(2_000L, 4_000L);
        assertThat(temperature).as("answers once the hang is over").isEqualTo(35);
    }

    @Test
    void removingTheHangKeyEndsTheHangEarly() throws Exception {
        NvmlDevice hung = nvml.device(1);
        install(healthy.toBuilder().gpu(1, g -> g.hangMillis(30_000)).build());
        long start = System.nanoTime();
        Future<String> blocked = background.submit(() -> hung.name().value());
        Thread.sleep(300);

        install(healthy);

        assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo("NVIDIA H100 80GB HBM3");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(300L, 2_000L);
    }

    @Test
    void aNodeWideHangOfOneFunctionDelaysOnlyThatFunction() {
        NvmlDevice gpu = nvml.device(5);
        install(healthy.toBuilder().hang("nvmlDeviceGetPowerUsage", 400).build());

        assertThat(millisToRun(() -> gpu.powerUsageMilliwatts().value())).isBetween(400L, 2_000L);
        assertThat(millisToRun(() -> nvml.device(6).powerUsageMilliwatts().value())).isGreaterThanOrEqualTo(400L);
        assertThat(millisToRun(() -> gpu.temperatureCelsius().value())).isLessThan(300L);
    }

    @Test
    void aHangOfOneFunctionOnOneGpuAlsoAppliesToHandleLookups() {
        install(healthy.toBuilder().gpu(7, g -> g.hang("nvmlDeviceGetHandleByIndex_v2", 300)).build());

        assertThat(millisToRun(() -> nvml.device(7))).isBetween(300L, 2_000L);
        assertThat(millisToRun(() -> nvml.device(6))).isLessThan(250L);
    }

    @Test
    void aVanishedGpuLeavesTheCountAndTheGpusAfterItMoveDownOneIndex() {
        NvmlDevice third = nvml.device(3);
        NvmlDevice sixth = nvml.device(5);
        install(healthy.toBuilder().gpu(3, g -> g.vanished(true)).build());

        assertThat(nvml.deviceCount()).isEqualTo(7);
        assertThat(nvml.device(3).uuid().value()).as("index 3 is now the GPU that was 4").isEqualTo(uuidOf(4));
        assertThat(nvml.device(2).uuid().value()).isEqualTo(uuidOf(2));
        assertThat(sixth.uuid().value()).as("an existing handle follows its GPU").isEqualTo(uuidOf(5));
        assertThat(nvml.deviceByUuid(uuidOf(5)).index()).isEqualTo(4);
        assertThatThrownBy(third::name).isInstanceOfSatisfying(NvmlException.class,
                e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.GPU_IS_LOST));
        assertThatThrownBy(() -> nvml.deviceByUuid(uuidOf(3))).isInstanceOfSatisfying(NvmlException.class,
                e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.NOT_FOUND));
        assertThatThrownBy(() -> nvml.device(7)).isInstanceOfSatisfying(NvmlException.class,
                e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.INVALID_ARGUMENT));

        install(healthy);
        assertThat(nvml.deviceCount()).isEqualTo(8);
        assertThat(third.uuid().value()).as("back on the bus").isEqualTo(uuidOf(3));
    }
}
