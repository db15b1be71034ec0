package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NvmlEventSetTest {
    private static final Duration NONE_EXPECTED = Duration.ofMillis(150);

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
        background.shutdownNow();
        assertThat(background.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        nvml.close();
    }

    private String uuidOf(int gpu) {
        return healthy.gpu(gpu).setting("uuid").orElseThrow();
    }

    /** Writes {@code state} from another thread after {@code delayMillis}, as an operator or the demo would. */
    private void installLater(FakeNvmlState state, long delayMillis) {
        CompletableFuture.runAsync(() -> install(state),
                CompletableFuture.delayedExecutor(delayMillis, TimeUnit.MILLISECONDS, background));
    }

    @Test
    void anXidWrittenWhileWaitingArrivesPromptlyWithItsGpu() {
        try (NvmlEventSet events = nvml.createEventSet()) {
            assertThat(events.register(nvml.device(3), NvmlEventType.XID_CRITICAL_ERROR)).isTrue();
            installLater(healthy.toBuilder().xid(1, 3, 79).build(), 200);

            long start = System.nanoTime();
            Optional<NvmlEvent> event = events.await(Duration.ofSeconds(10));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(event).contains(new NvmlEvent(3, uuidOf(3), NvmlEventType.XID_CRITICAL_ERROR, 79,
                    OptionalInt.empty(), OptionalInt.empty()));
            assertThat(event.orElseThrow().isXid()).isTrue();
            assertThat(elapsedMillis).as("blocked until the write, then woke within ~1 s").isBetween(150L, 1_200L);
        }
    }

    @Test
    void aWaitWakesOnTheWriteItselfNotOnItsOnceASecondRecheck() {
        try (NvmlEventSet events = nvml.createEventSet()) {
            assertThat(events.register(nvml.device(2), NvmlEventType.XID_CRITICAL_ERROR)).isTrue();
            installLater(healthy.toBuilder().xid(1, 2, 48).build(), 200);

            long start = System.nanoTime();
            Optional<NvmlEvent> event = events.await(Duration.ofSeconds(10));
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(event).map(NvmlEvent::eventData).contains(48L);
            // inotify wakes the wait at the write (~200 ms); the fallback recheck alone would take ~1 s
            assertThat(elapsedMillis).isBetween(150L, 800L);
        }
    }

    @Test
    void aWaitWithNothingToDeliverTimesOutEmpty() {
        try (NvmlEventSet events = nvml.createEventSet()) {
            events.register(nvml.device(0), NvmlEventType.ALL);

            long start = System.nanoTime();
            assertThat(events.await(Duration.ofMillis(300))).isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(290L, 2_000L);
            assertThat(events.await(Duration.ZERO)).isEmpty();
        }
    }

    @Test
    void eventsAlreadyInTheFileAreNotReplayedToANewSet() {
        FakeNvmlState earlier = healthy.toBuilder().xid(1, 0, 48).xid(2, 1, 79).build();
        install(earlier);
        try (NvmlEventSet events = nvml.createEventSet()) {
            for (int i = 0; i < 8; i++) {
                events.register(nvml.device(i), NvmlEventType.XID_CRITICAL_ERROR);
            }
            assertThat(events.await(NONE_EXPECTED)).isEmpty();

            install(earlier.toBuilder().xid(earlier.nextEventId(), 2, 94).build());
            assertThat(events.await(Duration.ofSeconds(5))).map(NvmlEvent::eventData).contains(94L);
        }
        try (Nvml restarted = FakeNvmlEnvironment.open(); NvmlEventSet events = restarted.createEventSet()) {
            events.register(restarted.device(2), NvmlEventType.XID_CRITICAL_ERROR);

            assertThat(events.await(NONE_EXPECTED)).as("a restarted consumer's new set").isEmpty();
        }
    }

    @Test
    void deliversRegisteredGpusAndTypesOnlyOnceEachInIdOrder() {
        try (NvmlEventSet events = nvml.createEventSet()) {
            events.register(nvml.device(1), NvmlEventType.XID_CRITICAL_ERROR);
            events.register(nvml.device(2), NvmlEventType.DOUBLE_BIT_ECC_ERROR);
            install(healthy.toBuilder()
                    .xid(14, 1, 45)
                    .event(15, 1, NvmlEventType.XID_CRITICAL_ERROR, 31, 1, 0)
                    .xid(11, 2, 13)
                    .xid(12, 0, 79)
                    .event(13, 2, NvmlEventType.DOUBLE_BIT_ECC_ERROR, 0)
                    .xid(10, 1, 31)
                    .build());

            assertThat(events.await(Duration.ofSeconds(5))).map(NvmlEvent::eventData).contains(31L);
            NvmlEvent doubleBit = events.await(Duration.ofSeconds(5)).orElseThrow();
            assertThat(doubleBit.deviceIndex()).isEqualTo(2);
            assertThat(doubleBit.eventType()).isEqualTo(NvmlEventType.DOUBLE_BIT_ECC_ERROR);
            assertThat(doubleBit.isXid()).isFalse();
            assertThat(events.await(Duration.ofSeconds(5))).map(NvmlEvent::eventData).contains(45L);
            NvmlEvent mig = events.await(Duration.ofSeconds(5)).orElseThrow();
            assertThat(mig.gpuInstanceId()).hasValue(1);
            assertThat(mig.computeInstanceId()).hasValue(0);
            assertThat(events.await(NONE_EXPECTED)).as("nothing twice, nothing unregistered").isEmpty();
        }
    }

    @Test
    void registeringAnUnsupportedTypeReturnsFalseAndLeavesTheSetUsable() {
        install(healthy.toBuilder().gpu(5, gpu -> gpu.supportedEventTypes(NvmlEventType.XID_CRITICAL_ERROR)).build());
        try (NvmlEventSet events = nvml.createEventSet()) {
            NvmlDevice gpu = nvml.device(5);

            assertThat(events.register(gpu, NvmlEventType.XID_CRITICAL_ERROR | NvmlEventType.SINGLE_BIT_ECC_ERROR))
                    .isFalse();
            assertThat(events.register(gpu, NvmlEventType.XID_CRITICAL_ERROR)).isTrue();
            install(healthy.toBuilder().gpu(5, g -> g.supportedEventTypes(NvmlEventType.XID_CRITICAL_ERROR))
                    .event(1, 5, NvmlEventType.SINGLE_BIT_ECC_ERROR, 0).xid(2, 5, 92).build());
            assertThat(events.await(Duration.ofSeconds(5))).map(NvmlEvent::eventData).contains(92L);
        }
    }

    @Test
    void aBlockedWaitHoldsUpNeitherOtherCallsNorRegistration() throws Exception {
        try (NvmlEventSet events = nvml.createEventSet()) {
            events.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR);
            Future<Optional<NvmlEvent>> waiting = background.submit(() -> events.await(Duration.ofSeconds(10)));
            Thread.sleep(100);

            long start = System.nanoTime();
            assertThat(nvml.device(6).temperatureCelsius().value()).isEqualTo(32);
            assertThat(events.register(nvml.device(6), NvmlEventType.XID_CRITICAL_ERROR)).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(500);
            assertThat(waiting.isDone()).isFalse();

            install(healthy.toBuilder().xid(1, 6, 119).build());
            NvmlEvent event = waiting.get(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(event.deviceIndex()).isEqualTo(6);
            assertThat(event.uuid()).isEqualTo(uuidOf(6));
        }
    }

    @Test
    void closingWhileAWaitIsBlockedReturnsAtOnceAndLaterUseIsRefused() throws Exception {
        NvmlEventSet events = nvml.createEventSet();
        events.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR);
        Future<Optional<NvmlEvent>> waiting = background.submit(() -> events.await(Duration.ofMillis(400)));
        Thread.sleep(100);

        long start = System.nanoTime();
        events.close();
        events.close();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(200);

        assertThat(waiting.get(5, TimeUnit.SECONDS)).isEmpty();
        assertThatThrownBy(() -> events.await(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> events.register(nvml.device(1), NvmlEventType.XID_CRITICAL_ERROR))
                .isInstanceOf(IllegalStateException.class);
        assertThat(events).hasToString("NvmlEventSet[1 GPUs, closed]");
    }

    @Test
    void anXidFromAGpuThatIsNowLostKeepsTheIdentityItWasRegisteredWith() {
        try (NvmlEventSet events = nvml.createEventSet()) {
            events.register(nvml.device(4), NvmlEventType.XID_CRITICAL_ERROR);
            install(healthy.toBuilder().gpu(4, gpu -> gpu.lost(true)).xid(1, 4, 79).build());

            assertThat(events.await(Duration.ofSeconds(5))).contains(new NvmlEvent(4, uuidOf(4),
                    NvmlEventType.XID_CRITICAL_ERROR, 79, OptionalInt.empty(), OptionalInt.empty()));
        }
    }

    @Test
    void aFailedWaitThrowsWithNvmlsCode() {
        install(healthy.toBuilder().fail("nvmlEventSetWait_v2", NvmlReturn.UNKNOWN).build());
        try (NvmlEventSet events = nvml.createEventSet()) {
            assertThatThrownBy(() -> events.await(Duration.ofMillis(10)))
                    .hasMessage("nvmlEventSetWait_v2 failed: NVML_ERROR_UNKNOWN (999): Unknown Error");
        }
    }

    @Test
    void closingAfterNvmlShutDownIsQuiet() {
        Nvml session = FakeNvmlEnvironment.open();
        NvmlEventSet events = session.createEventSet();
        session.close();

        events.close();
        assertThatThrownBy(() -> events.await(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
    }
}
