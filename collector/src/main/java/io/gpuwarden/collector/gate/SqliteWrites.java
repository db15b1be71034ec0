package io.gpuwarden.collector.gate;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** How a {@link GateWrite} becomes SQL in the {@link SqliteGateStore} (inside its transaction). */
final class SqliteWrites {
  private SqliteWrites() {}

  /** Applies the parts of {@code write} in the order {@link GateWrite} documents. */
  static void apply(Connection c, GateWrite write) throws SQLException {
    if (!write.nodes().isEmpty()) {
      try (PreparedStatement put = c.prepareStatement(
          "INSERT OR REPLACE INTO gate_node (node_id, pool, status) VALUES (?, ?, ?)")) {
        for (GateStatus status : write.nodes()) {
          put.setString(1, status.getNodeId());
          put.setString(2, status.getPool());
          put.setBytes(3, status.toByteArray());
          put.executeUpdate();
        }
      }
    }
    if (!write.history().isEmpty()) {
      try (PreparedStatement append = c.prepareStatement(
          "INSERT INTO history (node_id, time_ms, entry) VALUES (?, ?, ?)")) {
        for (GateWrite.NodeHistory h : write.history()) {
          append.setString(1, h.nodeId());
          append.setLong(2, toMillis(h.entry().getTime()));
          append.setBytes(3, h.entry().toByteArray());
          append.executeUpdate();
        }
      }
    }
    if (!write.enqueued().isEmpty()) {
      // Delete then insert rather than INSERT OR REPLACE: a node's earlier request goes, but a
      // sequence already used by another node fails the write instead of silently dropping that node.
      try (PreparedStatement remove = c.prepareStatement("DELETE FROM lock_queue WHERE node_id = ?");
          PreparedStatement add = c.prepareStatement(
              "INSERT INTO lock_queue (sequence, node_id, pool, lock) VALUES (?, ?, ?, ?)")) {
        for (QueuedLock lock : write.enqueued()) {
          remove.setString(1, lock.nodeId());
          remove.executeUpdate();
          add.setLong(1, lock.sequence());
          add.setString(2, lock.nodeId());
          add.setString(3, lock.pool());
          add.setBytes(4, lock.lock().toByteArray());
          add.executeUpdate();
        }
      }
    }
    deleteByKey(c, "DELETE FROM lock_queue WHERE node_id = ?", write.dequeued());
    if (!write.windows().isEmpty()) {
      try (PreparedStatement put = c.prepareStatement(
          "INSERT OR REPLACE INTO no_fly (id, pool, window) VALUES (?, ?, ?)")) {
        for (NoFlyWindow window : write.windows()) {
          put.setString(1, window.getId());
          put.setString(2, window.getPool());
          put.setBytes(3, window.toByteArray());
          put.executeUpdate();
        }
      }
    }
    deleteByKey(c, "DELETE FROM no_fly WHERE id = ?", write.removedWindows());
    if (!write.applied().isEmpty()) {
      // Never lower a stream's sequence: MAX keeps the write idempotent and order-free.
      try (PreparedStatement put = c.prepareStatement("INSERT INTO ingest_applied (node_id, stream_id, sequence) VALUES (?, ?, ?)"
          + " ON CONFLICT (node_id, stream_id) DO UPDATE SET sequence = MAX(sequence, excluded.sequence)")) {
        for (GateStore.AppliedSequence a : write.applied()) {
          put.setString(1, a.nodeId());
          put.setString(2, a.streamId());
          put.setLong(3, a.sequence());
          put.executeUpdate();
        }
      }
    }
    if (!write.budgets().isEmpty()) {
      try (PreparedStatement put = c.prepareStatement("INSERT OR REPLACE INTO budget (pool, budget) VALUES (?, ?)")) {
        for (Budget budget : write.budgets()) {
          put.setString(1, budget.getPool());
          put.setBytes(2, budget.toByteArray());
          put.executeUpdate();
        }
      }
    }
  }

  private static void deleteByKey(Connection c, String sql, List<String> keys) throws SQLException {
    if (keys.isEmpty()) {
      return;
    }
    try (PreparedStatement delete = c.prepareStatement(sql)) {
      for (String key : keys) {
        delete.setString(1, key);
        delete.executeUpdate();
      }
    }
  }

  /** Says what a write holds, for error messages: "1 node status, 2 history entries". */
  static String describe(GateWrite write) {
    List<String> parts = new ArrayList<>();
    count(parts, write.nodes().size(), "node status", "node statuses");
    count(parts, write.history().size(), "history entry", "history entries");
    count(parts, write.enqueued().size(), "queued lock", "queued locks");
    count(parts, write.dequeued().size(), "dequeue", "dequeues");
    count(parts, write.windows().size(), "no-fly window", "no-fly windows");
    count(parts, write.removedWindows().size(), "window removal", "window removals");
    count(parts, write.budgets().size(), "budget", "budgets");
    return String.join(", ", parts);
  }

  private static void count(List<String> parts, int n, String one, String many) {
    if (n > 0) {
      parts.add(n + " " + (n == 1 ? one : many));
    }
  }

  /** Milliseconds since the epoch of {@code time}, as the history's time_ms column holds it. */
  static long toMillis(Timestamp time) {
    return time.getSeconds() * 1000 + time.getNanos() / 1_000_000;
  }

  /** Milliseconds since the epoch of {@code since}, clamped at the long range. */
  static long toMillis(Instant since) {
    try {
      return since.toEpochMilli();
    } catch (ArithmeticException e) {
      return since.isBefore(Instant.EPOCH) ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
