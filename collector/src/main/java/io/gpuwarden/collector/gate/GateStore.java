package io.gpuwarden.collector.gate;

import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.time.Instant;
import java.util.List;

/**
 * The release gate's durable state, behind one narrow interface so that an embedded database (the
 * default, {@link SqliteGateStore}) can later be replaced by a shared or replicated one.
 *
 * <p>Every {@link #write} is atomic and durable when it returns: all of its changes are on disk, or
 * none is and {@link GateStoreException} is thrown. The gate applies a change in memory only after
 * its write returned, so what the API answered is always what a restarted collector loads.
 *
 * <p>Implementations are thread-safe.
 */
public interface GateStore extends AutoCloseable {
  /**
   * Everything the gate needs after a restart.
   *
   * @param nodes the gate status of every node the gate has seen, any order
   * @param queue lock requests waiting for budget or a no-fly window to end, in queue order
   * @param windows every no-fly window not removed (past ones too)
   * @param budgets the budget settings and counters of every pool that has any
   * @param applied the highest batch sequence applied durably per agent stream
   */
  record Snapshot(List<GateStatus> nodes, List<QueuedLock> queue, List<NoFlyWindow> windows, List<Budget> budgets,
      List<AppliedSequence> applied) {
    /** A snapshot without ingest state. */
    public Snapshot(List<GateStatus> nodes, List<QueuedLock> queue, List<NoFlyWindow> windows, List<Budget> budgets) {
      this(nodes, queue, windows, budgets, List.of());
    }

    /** Copies the lists. */
    public Snapshot {
      applied = List.copyOf(applied);
      nodes = List.copyOf(nodes);
      queue = List.copyOf(queue);
      windows = List.copyOf(windows);
      budgets = List.copyOf(budgets);
    }
  }

  /**
   * The highest sequence of one agent stream whose batch (and its events) is stored: a restarted
   * collector tells the agent to resume after it, so each batch is applied once.
   */
  record AppliedSequence(String nodeId, String streamId, long sequence) {}

  /** Loads the whole state. */
  Snapshot load();

  /** Applies {@code write} atomically and durably. */
  void write(GateWrite write);

  /**
   * Returns the history of one node, oldest first: entries at or after {@code since}, at most
   * {@code limit} (the newest ones when there are more).
   */
  List<HistoryEntry> history(String nodeId, Instant since, int limit);

  /** Closes the store; later calls fail. */
  @Override
  void close();
}
