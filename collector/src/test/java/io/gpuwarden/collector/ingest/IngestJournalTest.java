package io.gpuwarden.collector.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.collector.MutableClock;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.collector.gate.GateStore;
import io.gpuwarden.collector.gate.SqliteGateStore;
import io.gpuwarden.collector.gate.SqliteStores;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal over a real SQLite store: batches acknowledged once durable, history written, failures retried. */
class IngestJournalTest {
  @TempDir
  Path dir;

  private final MutableClock clock = MutableClock.at(Instant.parse("2026-12-03T10:00:00Z"));
  private SqliteGateStore store;
  private NodeRegistry registry;
  private IngestJournal journal;
  private final Map<String, Long> durable = new ConcurrentHashMap<>();

  @BeforeEach
  void open() {
    store = SqliteGateStore.open(dir);
    registry = new NodeRegistry(clock, new StalenessVerdict(Duration.ofSeconds(10)));
    journal = IngestJournal.start(store, registry, clock);
    journal.addDurableListener((node, stream, seq) -> durable.merge(node + "/" + stream, seq, Math::max));
  }

  @AfterEach
  void close() {
    journal.close();
    store.close();
  }

  private NodeRegistry.Session hello(String node) {
    return registry.hello(AgentHello.newBuilder().setNodeId(node).setPool("p").setBootId("b").setStreamId("s-" + node).build());
  }

  private static TelemetryBatch batch(long seq, String eventMessage) {
    TelemetryBatch.Builder b = TelemetryBatch.newBuilder().setSequence(seq)
        .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY));
    if (eventMessage != null) {
      b.addEvents(Event.newBuilder().setId("e" + seq).setSeverity(EventSeverity.EVENT_SEVERITY_ERROR).setMessage(eventMessage));
    }
    return b.build();
  }

  @Test
  void aBatchIsAcknowledgedOnceItsEventsAndSequenceAreStored() {
    NodeRegistry.Session s = hello("n1");
    registry.apply(s, batch(1, "Xid 79"));
    await().atMost(Duration.ofSeconds(5)).until(() -> durable.getOrDefault("n1/s-n1", 0L) == 1L);

    assertThat(store.load().applied()).containsExactly(new GateStore.AppliedSequence("n1", "s-n1", 1));
    List<HistoryEntry> history = journal.history("n1", Instant.EPOCH, 0);
    assertThat(history).anySatisfy(e -> assertThat(e.getEvent().getMessage()).isEqualTo("Xid 79"));
    assertThat(history).as("the first verdict is history too").anySatisfy(e -> assertThat(e.hasVerdict()).isTrue());
  }

  @Test
  void manyBatchesAreWrittenInFewerTransactionsAndAllAcknowledged() {
    NodeRegistry.Session a = hello("a");
    NodeRegistry.Session b = hello("b");
    for (int i = 1; i <= 2000; i++) {
      registry.apply(a, batch(i, i % 100 == 0 ? "event " + i : null));
      registry.apply(b, batch(i, null));
    }
    journal.flush(Duration.ofSeconds(10));
    assertThat(durable).containsEntry("a/s-a", 2000L).containsEntry("b/s-b", 2000L);
    assertThat(journal.commits()).as("group commit: 4000 batches").isLessThan(4000);
    assertThat(journal.history("a", Instant.EPOCH, 0)).filteredOn(HistoryEntry::hasEvent).hasSize(20);
  }

  @Test
  void whileTheStoreFailsNothingIsAcknowledgedAndOnceItWritesAgainEverythingIs() {
    NodeRegistry.Session s = hello("n1");
    registry.apply(s, batch(1, null));
    await().atMost(Duration.ofSeconds(5)).until(() -> durable.getOrDefault("n1/s-n1", 0L) == 1L);

    SqliteStores.limitPages(store, 2); // the disk is full: a 1 MiB event cannot be stored
    registry.apply(s, batch(2, "x".repeat(1 << 20)));
    registry.apply(s, batch(3, "after the big one"));
    await().atMost(Duration.ofSeconds(5)).until(() -> journal.writeFailures() > 0);
    assertThat(durable.get("n1/s-n1")).as("not acknowledged while not durable").isEqualTo(1L);
    assertThat(journal.lastError()).contains("SQLITE_FULL");
    assertThat(journal.waiting()).isEqualTo(2);

    SqliteStores.limitPages(store, 10_000); // space is back
    await().atMost(Duration.ofSeconds(10)).until(() -> durable.getOrDefault("n1/s-n1", 0L) == 3L);
    assertThat(journal.lastError()).isEmpty();
    assertThat(journal.history("n1", Instant.EPOCH, 0)).filteredOn(HistoryEntry::hasEvent)
        .extracting(e -> e.getEvent().getId()).containsExactly("e2", "e3");
  }

  @Test
  void aRestartedJournalTellsTheRegistryWhatWasDurable() {
    NodeRegistry.Session s = hello("n1");
    registry.apply(s, batch(1, null));
    registry.apply(s, batch(2, null));
    journal.flush(Duration.ofSeconds(5));
    journal.close();

    NodeRegistry fresh = new NodeRegistry(clock, new StalenessVerdict(Duration.ofSeconds(10)));
    IngestJournal again = IngestJournal.start(store, fresh, clock);
    try {
      assertThat(again.restoredApplied()).containsExactly(new GateStore.AppliedSequence("n1", "s-n1", 2));
      NodeRegistry.Session resumed = fresh.hello(AgentHello.newBuilder().setNodeId("n1").setPool("p").setBootId("b")
          .setStreamId("s-n1").build());
      assertThat(resumed.acknowledgedSequence()).isEqualTo(2);
      assertThat(fresh.apply(resumed, batch(2, null))).as("a replay is not applied again").isEqualTo(2);
    } finally {
      again.close();
      journal = IngestJournal.start(store, registry, clock); // for close()
    }
  }

  @Test
  void aFullJournalPausesTheStreamsUntilACommitMakesRoom() {
    journal.close();
    journal = IngestJournal.start(store, registry, clock, 5);
    journal.addDurableListener((node, stream, seq) -> durable.merge(node + "/" + stream, seq, Math::max));
    java.util.concurrent.atomic.AtomicInteger resumed = new java.util.concurrent.atomic.AtomicInteger();
    SqliteStores.limitPages(store, 2);
    NodeRegistry.Session s = hello("n1");
    for (int i = 1; i <= 6; i++) {
      registry.apply(s, batch(i, "x".repeat(1 << 20))); // nothing of these fits on the "disk"
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> journal.writeFailures() > 0);
    journal.whenRoom(resumed::incrementAndGet);
    assertThat(resumed.get()).as("full: the stream waits").isZero();
    assertThat(journal.pausedStreams()).isEqualTo(1);

    SqliteStores.limitPages(store, 100_000);
    await().atMost(Duration.ofSeconds(10)).until(() -> resumed.get() == 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> durable.getOrDefault("n1/s-n1", 0L) == 6L);
    journal.whenRoom(resumed::incrementAndGet);
    assertThat(resumed.get()).as("room: at once").isEqualTo(2);
  }
}
