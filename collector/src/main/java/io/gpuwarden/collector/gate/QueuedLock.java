package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.LockInfo;

/**
 * A lock request waiting for budget or for a no-fly window to end; granted first in, first out.
 *
 * @param sequence position in the queue (increasing; the gate assigns it)
 * @param nodeId the node to lock
 * @param pool the node's pool when the request was queued
 * @param lock what the lock will say: reason, actor, expect_reboot; {@code locked_at} holds when it was queued
 */
public record QueuedLock(long sequence, String nodeId, String pool, LockInfo lock) {
  /** Validates. */
  public QueuedLock {
    requireNonNull(nodeId, "nodeId");
    requireNonNull(pool, "pool");
    requireNonNull(lock, "lock");
  }
}
