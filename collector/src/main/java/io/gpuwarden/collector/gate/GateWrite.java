package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.util.ArrayList;
import java.util.List;

/**
 * One atomic change of the gate store: node statuses to upsert, history entries to append, queue
 * entries to add and remove, no-fly windows and budgets to upsert or remove. Applied in this order
 * by {@link GateStore#write}; all or nothing.
 *
 * <pre>{@code
 * store.write(new GateWrite().putNode(status).appendHistory("gpu-001", entry));
 * }</pre>
 *
 * <p>Not thread-safe; build it on one thread.
 */
public final class GateWrite {
  /** A history entry of one node. */
  public record NodeHistory(String nodeId, HistoryEntry entry) {
    /** Validates. */
    public NodeHistory {
      requireNonNull(nodeId, "nodeId");
      requireNonNull(entry, "entry");
      if (!entry.hasTime()) {
        throw new IllegalArgumentException("history entry of " + nodeId + " has no time");
      }
    }
  }

  private final List<GateStatus> nodes = new ArrayList<>();
  private final List<NodeHistory> history = new ArrayList<>();
  private final List<QueuedLock> enqueued = new ArrayList<>();
  private final List<String> dequeued = new ArrayList<>();
  private final List<NoFlyWindow> windows = new ArrayList<>();
  private final List<String> removedWindows = new ArrayList<>();
  private final List<Budget> budgets = new ArrayList<>();
  private final List<GateStore.AppliedSequence> applied = new ArrayList<>();

  /** Records that every batch of {@code streamId} up to {@code sequence} is applied (never lowers it). */
  public GateWrite putApplied(String nodeId, String streamId, long sequence) {
    applied.add(new GateStore.AppliedSequence(requireNonNull(nodeId, "nodeId"), requireNonNull(streamId, "streamId"), sequence));
    return this;
  }

  /** Applied sequences to record. */
  public List<GateStore.AppliedSequence> applied() {
    return List.copyOf(applied);
  }

  /** Upserts the status of {@code status.getNodeId()}. */
  public GateWrite putNode(GateStatus status) {
    if (status.getNodeId().isEmpty()) {
      throw new IllegalArgumentException("gate status without a node id");
    }
    nodes.add(status);
    return this;
  }

  /** Appends {@code entry} to the history of {@code nodeId}. */
  public GateWrite appendHistory(String nodeId, HistoryEntry entry) {
    history.add(new NodeHistory(nodeId, entry));
    return this;
  }

  /** Adds a queued lock (a node has at most one: a second replaces the first). */
  public GateWrite enqueue(QueuedLock lock) {
    enqueued.add(requireNonNull(lock, "lock"));
    return this;
  }

  /** Removes the queued lock of {@code nodeId}, if any. */
  public GateWrite dequeue(String nodeId) {
    dequeued.add(requireNonNull(nodeId, "nodeId"));
    return this;
  }

  /** Upserts a no-fly window by its id. */
  public GateWrite putWindow(NoFlyWindow window) {
    if (window.getId().isEmpty()) {
      throw new IllegalArgumentException("no-fly window without an id");
    }
    windows.add(window);
    return this;
  }

  /** Removes the no-fly window {@code id}. */
  public GateWrite removeWindow(String id) {
    removedWindows.add(requireNonNull(id, "id"));
    return this;
  }

  /** Upserts the budget of {@code budget.getPool()}. */
  public GateWrite putBudget(Budget budget) {
    if (budget.getPool().isEmpty()) {
      throw new IllegalArgumentException("budget without a pool");
    }
    budgets.add(budget);
    return this;
  }

  /** Returns true when the write changes nothing. */
  public boolean isEmpty() {
    return nodes.isEmpty() && history.isEmpty() && enqueued.isEmpty() && dequeued.isEmpty() && windows.isEmpty()
        && removedWindows.isEmpty() && budgets.isEmpty() && applied.isEmpty();
  }

  /** Node statuses to upsert, in order. */
  public List<GateStatus> nodes() {
    return List.copyOf(nodes);
  }

  /** History entries to append, in order. */
  public List<NodeHistory> history() {
    return List.copyOf(history);
  }

  /** Queued locks to add, in order. */
  public List<QueuedLock> enqueued() {
    return List.copyOf(enqueued);
  }

  /** Nodes whose queued lock is removed. */
  public List<String> dequeued() {
    return List.copyOf(dequeued);
  }

  /** No-fly windows to upsert. */
  public List<NoFlyWindow> windows() {
    return List.copyOf(windows);
  }

  /** No-fly window ids to remove. */
  public List<String> removedWindows() {
    return List.copyOf(removedWindows);
  }

  /** Budgets to upsert. */
  public List<Budget> budgets() {
    return List.copyOf(budgets);
  }
}
