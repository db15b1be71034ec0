package io.gpuwarden.collector.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteGateStoreTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  @TempDir Path dataDir;

  @Test
  void everythingWrittenIsLoadedAfterReopen() {
    GateStatus a = node("gpu-001", "a", GateState.GATE_STATE_SERVING);
    GateStatus b = node("gpu-002", "b", GateState.GATE_STATE_LOCKED);
    QueuedLock second = queued(7, "gpu-003", "a", "firmware");
    QueuedLock first = queued(3, "gpu-004", "a", "cables");
    NoFlyWindow window = window("w1", "a", "training run");
    Budget budget = Budget.newBuilder().setPool("a").setMaxNodesOut(2).setQueuedLocks(2).build();
    HistoryEntry entry = transition(T0, "lock");
    try (SqliteGateStore store = SqliteGateStore.open(dataDir.resolve("new-dir"))) {
      store.write(new GateWrite().putNode(a).putNode(b).appendHistory("gpu-001", entry)
          .enqueue(second).enqueue(first).putWindow(window).putBudget(budget));
    }

    try (SqliteGateStore store = SqliteGateStore.open(dataDir.resolve("new-dir"))) {
      GateStore.Snapshot snapshot = store.load();
      assertThat(snapshot.nodes()).containsExactlyInAnyOrder(a, b);
      assertThat(snapshot.queue()).containsExactly(first, second);
      assertThat(snapshot.windows()).containsExactly(window);
      assertThat(snapshot.budgets()).containsExactly(budget);
      assertThat(store.history("gpu-001", Instant.EPOCH, 0)).containsExactly(entry);
    }
  }

  @Test
  void upsertsReplaceAndRemovalsRemove() {
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      store.write(new GateWrite().putNode(node("gpu-001", "a", GateState.GATE_STATE_SERVING))
          .enqueue(queued(1, "gpu-002", "a", "old reason")).enqueue(queued(2, "gpu-003", "a", "stays"))
          .putWindow(window("w1", "a", "old")).putWindow(window("w2", "a", "goes"))
          .putBudget(Budget.newBuilder().setPool("a").setMaxNodesOut(1).build()));

      GateStatus locked = node("gpu-001", "a", GateState.GATE_STATE_LOCKED);
      QueuedLock requeued = queued(9, "gpu-002", "a", "new reason");
      NoFlyWindow newer = window("w1", "a", "new");
      Budget wider = Budget.newBuilder().setPool("a").setMaxNodesOut(4).build();
      store.write(new GateWrite().putNode(locked).enqueue(requeued).putWindow(newer).removeWindow("w2")
          .putBudget(wider));
      GateStore.Snapshot afterReplace = store.load();
      assertThat(afterReplace.nodes()).containsExactly(locked);
      assertThat(afterReplace.queue()).containsExactly(queued(2, "gpu-003", "a", "stays"), requeued);
      assertThat(afterReplace.windows()).containsExactly(newer);
      assertThat(afterReplace.budgets()).containsExactly(wider);

      store.write(new GateWrite().dequeue("gpu-003").dequeue("not-queued").removeWindow("w1"));
      GateStore.Snapshot afterRemove = store.load();
      assertThat(afterRemove.queue()).containsExactly(requeued);
      assertThat(afterRemove.windows()).isEmpty();
    }
  }

  @Test
  void writeAppliesDequeueAfterEnqueue() {
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      store.write(new GateWrite().enqueue(queued(1, "gpu-001", "a", "x")).dequeue("gpu-001"));

      assertThat(store.load().queue()).isEmpty();
    }
  }

  @Test
  void historyFiltersBySinceAndKeepsTheNewestWithinLimitOldestFirst() {
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      List<HistoryEntry> written = new ArrayList<>();
      GateWrite write = new GateWrite();
      for (int i = 0; i < 6; i++) {
        HistoryEntry entry = transition(T0.plusSeconds(i * 10L), "step-" + i);
        written.add(entry);
        write.appendHistory("gpu-001", entry);
        write.appendHistory("gpu-002", transition(T0.plusSeconds(i * 10L), "other-" + i));
      }
      store.write(write);

      assertThat(store.history("gpu-001", Instant.EPOCH, 0)).containsExactlyElementsOf(written);
      assertThat(store.history("gpu-001", T0.plusSeconds(20), 0)).containsExactlyElementsOf(written.subList(2, 6));
      assertThat(store.history("gpu-001", T0.plusSeconds(21), 0)).containsExactlyElementsOf(written.subList(3, 6));
      assertThat(store.history("gpu-001", Instant.EPOCH, 2)).containsExactlyElementsOf(written.subList(4, 6));
      assertThat(store.history("gpu-001", T0.plusSeconds(10), 10)).containsExactlyElementsOf(written.subList(1, 6));
      assertThat(store.history("gpu-001", Instant.MIN, -1)).hasSize(6);
      assertThat(store.history("gpu-003", Instant.EPOCH, 0)).isEmpty();
    }
  }

  @Test
  void historyComparesSinceExactlyWithinAMillisecond() {
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      HistoryEntry early = transition(T0.plusNanos(100_000), "early");
      HistoryEntry late = transition(T0.plusNanos(900_000), "late");
      store.write(new GateWrite().appendHistory("gpu-001", early).appendHistory("gpu-001", late));

      assertThat(store.history("gpu-001", T0.plusNanos(500_000), 0)).containsExactly(late);
    }
  }

  @Test
  void historyEntriesWithEqualTimeKeepInsertionOrder() {
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      List<HistoryEntry> written = new ArrayList<>();
      for (String action : List.of("c", "a", "b", "d")) {
        HistoryEntry entry = transition(T0, action);
        written.add(entry);
        store.write(new GateWrite().appendHistory("gpu-001", entry)); // separate writes, same time
      }

      assertThat(store.history("gpu-001", T0, 0)).containsExactlyElementsOf(written);
      assertThat(store.history("gpu-001", T0, 3)).containsExactlyElementsOf(written.subList(1, 4));
    }
  }

  @Test
  void failedWriteOnFullDiskLeavesNothingBehindAndStoreStaysUsable() {
    GateStatus before = node("gpu-001", "a", GateState.GATE_STATE_SERVING);
    HistoryEntry earlier = transition(T0, "lock");
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      store.write(new GateWrite().putNode(before).appendHistory("gpu-001", earlier)
          .putBudget(Budget.newBuilder().setPool("a").setMaxNodesOut(1).build()));
      store.write(new GateWrite().putNode(node("gpu-002", "a", GateState.GATE_STATE_SERVING)));
      GateStore.Snapshot good = store.load();
      store.limitPagesForTest(16);

      HistoryEntry huge = HistoryEntry.newBuilder().setTime(timestamp(T0.plusSeconds(60)))
          .setEvent(Event.newBuilder().setId("big").setMessage("x".repeat(1 << 20))).build();
      GateWrite failing = new GateWrite().putNode(node("gpu-001", "a", GateState.GATE_STATE_LOCKED))
          .appendHistory("gpu-001", huge);
      assertThatThrownBy(() -> store.write(failing))
          .isInstanceOf(GateStoreException.class)
          .hasMessageContaining(store.file().toString())
          .hasMessageContaining("cannot write 1 node status, 1 history entry")
          .hasMessageContaining("SQLITE_FULL");

      assertThat(store.load()).isEqualTo(good);
      assertThat(store.load().nodes()).contains(before);
      assertThat(store.history("gpu-001", Instant.EPOCH, 0)).containsExactly(earlier);

      GateStatus after = node("gpu-002", "a", GateState.GATE_STATE_LOCKED);
      store.write(new GateWrite().putNode(after));
      assertThat(store.load().nodes()).containsExactlyInAnyOrder(before, after);
    }
  }

  @Test
  void failedWriteOnAReusedQueueSequenceRollsBackItsEarlierParts() {
    GateStatus before = node("gpu-001", "a", GateState.GATE_STATE_SERVING);
    QueuedLock waiting = queued(5, "gpu-002", "a", "firmware");
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      store.write(new GateWrite().putNode(before).enqueue(waiting));

      // SQLite undoes only the failing statement here; the store must undo the node update itself.
      GateWrite reusedSequence = new GateWrite().putNode(node("gpu-001", "a", GateState.GATE_STATE_LOCKED))
          .appendHistory("gpu-001", transition(T0, "lock")).enqueue(queued(5, "gpu-003", "a", "cables"));
      assertThatThrownBy(() -> store.write(reusedSequence))
          .isInstanceOf(GateStoreException.class)
          .hasMessageContaining(store.file().toString())
          .hasMessageContaining("constraint");

      GateStore.Snapshot snapshot = store.load();
      assertThat(snapshot.nodes()).containsExactly(before);
      assertThat(snapshot.queue()).containsExactly(waiting);
      assertThat(store.history("gpu-001", Instant.EPOCH, 0)).isEmpty();
    }
  }

  @Test
  void refusesAFileWithANewerSchemaVersion() throws Exception {
    SqliteGateStore.open(dataDir).close();
    Path file = dataDir.resolve("gate.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("PRAGMA user_version = 3");
    }

    assertThatThrownBy(() -> SqliteGateStore.open(dataDir))
        .isInstanceOf(GateStoreException.class)
        .hasMessageContaining(file.toAbsolutePath().toString())
        .hasMessageContaining("schema version 3")
        .hasMessageContaining("version 2");
  }

  @Test
  void refusesAFileThatIsNotASqliteDatabase() throws Exception {
    Path file = dataDir.resolve("gate.db");
    byte[] garbage = new byte[8192];
    new Random(42).nextBytes(garbage);
    Files.write(file, garbage);

    assertThatThrownBy(() -> SqliteGateStore.open(dataDir))
        .isInstanceOf(GateStoreException.class)
        .hasMessageContaining(file.toAbsolutePath().toString())
        .hasMessageContaining("not a database");
  }

  @Test
  void closedStoreRefusesCalls() {
    SqliteGateStore store = SqliteGateStore.open(dataDir);
    store.close();
    String closed = "gate store " + store.file() + " is closed";

    assertThatThrownBy(store::load).isInstanceOf(GateStoreException.class).hasMessage(closed);
    assertThatThrownBy(() -> store.write(new GateWrite().removeWindow("w1")))
        .isInstanceOf(GateStoreException.class).hasMessage(closed);
    assertThatThrownBy(() -> store.history("gpu-001", Instant.EPOCH, 0))
        .isInstanceOf(GateStoreException.class).hasMessage(closed);
  }

  @Test
  void concurrentWritersAllLand() throws Exception {
    int threads = 4;
    int writesEach = 200;
    try (SqliteGateStore store = SqliteGateStore.open(dataDir)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Void>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          String nodeId = "gpu-" + t;
          Callable<Void> writer = () -> {
            for (int i = 0; i < writesEach; i++) {
              store.write(new GateWrite().putNode(node(nodeId, "a", GateState.GATE_STATE_SERVING))
                  .appendHistory(nodeId, transition(T0.plusSeconds(i), "w" + i)));
            }
            return null;
          };
          done.add(pool.submit(writer));
        }
        for (Future<Void> f : done) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }

      assertThat(store.load().nodes()).hasSize(threads);
      for (int t = 0; t < threads; t++) {
        List<HistoryEntry> history = store.history("gpu-" + t, Instant.EPOCH, 0);
        assertThat(history).hasSize(writesEach);
        assertThat(history.get(writesEach - 1).getTransition().getAction()).isEqualTo("w" + (writesEach - 1));
      }
    }
  }

  private static GateStatus node(String nodeId, String pool, GateState state) {
    return GateStatus.newBuilder().setNodeId(nodeId).setPool(pool).setState(state).setSince(timestamp(T0)).build();
  }

  private static QueuedLock queued(long sequence, String nodeId, String pool, String reason) {
    return new QueuedLock(sequence, nodeId, pool,
        LockInfo.newBuilder().setReason(reason).setActor("alice").setLockedAt(timestamp(T0)).build());
  }

  private static NoFlyWindow window(String id, String pool, String reason) {
    return NoFlyWindow.newBuilder().setId(id).setPool(pool).setStart(timestamp(T0))
        .setEnd(timestamp(T0.plusSeconds(3600))).setReason(reason).setActor("bob").build();
  }

  private static HistoryEntry transition(Instant time, String action) {
    return HistoryEntry.newBuilder().setTime(timestamp(time))
        .setTransition(GateTransition.newBuilder().setAction(action).setActor("gpuwarden")
            .setFromState(GateState.GATE_STATE_SERVING).setToState(GateState.GATE_STATE_LOCKED))
        .build();
  }

  private static Timestamp timestamp(Instant instant) {
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }
}
