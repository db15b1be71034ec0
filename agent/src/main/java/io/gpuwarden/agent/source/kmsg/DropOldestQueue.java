package io.gpuwarden.agent.source.kmsg;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A bounded hand-off between a reader thread and its consumer that never blocks the writer: when
 * full, the oldest entry is dropped and counted. The newest lines are kept because in a flood the
 * line that matters (a fatal Xid at the end of a storm of warnings) is usually the latest one.
 *
 * <pre>{@code
 * DropOldestQueue<KmsgRecord> q = new DropOldestQueue<>(4096);
 * q.offer(record);          // reader thread
 * List<KmsgRecord> batch = q.drain(1000);  // consumer
 * }</pre>
 *
 * @param <T> the entry type
 */
public final class DropOldestQueue<T> {
  private final int capacity;
  private final ArrayDeque<T> entries;
  private long dropped;

  /** Creates an empty queue holding at most {@code capacity} entries. */
  public DropOldestQueue(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
    this.entries = new ArrayDeque<>(Math.min(capacity, 1024));
  }

  /** Adds {@code entry}, dropping the oldest entry when full; returns true when one was dropped. */
  public synchronized boolean offer(T entry) {
    boolean drop = entries.size() == capacity;
    if (drop) {
      entries.pollFirst();
      dropped++;
    }
    entries.addLast(entry);
    return drop;
  }

  /** Removes and returns up to {@code max} entries, oldest first. */
  public synchronized List<T> drain(int max) {
    List<T> out = new ArrayList<>(Math.min(max, entries.size()));
    while (out.size() < max && !entries.isEmpty()) {
      out.add(entries.pollFirst());
    }
    return out;
  }

  /** Returns how many entries are waiting. */
  public synchronized int size() {
    return entries.size();
  }

  /** Returns how many entries were dropped since creation. */
  public synchronized long dropped() {
    return dropped;
  }
}
