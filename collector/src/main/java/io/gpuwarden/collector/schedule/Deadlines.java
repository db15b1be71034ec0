package io.gpuwarden.collector.schedule;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * When each key next needs a look: what time alone changes (a node's telemetry going stale, a
 * soak ending, a verification deadline) is found by popping the keys that are due, not by a scan
 * of every node. A key has at most one deadline, the earliest asked for; popping it forgets it.
 * Costs O(log n) per deadline set and per key popped.
 *
 * <pre>{@code
 * deadlines.atOrBefore(nodeId, lastSeen.plus(staleAfter));
 * for (String id : deadlines.due(clock.instant())) { ... look at id, maybe set its next deadline ... }
 * }</pre>
 *
 * <p>Thread-safe.
 *
 * @param <K> the key, e.g. a node id
 */
public final class Deadlines<K> {
  private record Entry<K>(Instant at, K key) {}

  private final PriorityQueue<Entry<K>> queue = new PriorityQueue<>((a, b) -> a.at().compareTo(b.at()));
  private final Map<K, Instant> pending = new HashMap<>();

  /** Asks for a look at {@code key} at {@code at}, unless one is already due at or before then. */
  public synchronized void atOrBefore(K key, Instant at) {
    requireNonNull(key, "key");
    requireNonNull(at, "at");
    Instant current = pending.get(key);
    if (current != null && !current.isAfter(at)) {
      return;
    }
    pending.put(key, at);
    queue.add(new Entry<>(at, key)); // an older, later entry of the key stays in the queue and is skipped when popped
  }

  /** Returns (and forgets) the keys due at {@code now}, earliest first. */
  public synchronized List<K> due(Instant now) {
    List<K> out = new ArrayList<>();
    while (!queue.isEmpty() && !queue.peek().at().isAfter(now)) {
      Entry<K> e = queue.poll();
      if (e.at().equals(pending.get(e.key()))) {
        pending.remove(e.key());
        out.add(e.key());
      }
    }
    return out;
  }

  /** Forgets {@code key}'s deadline. */
  public synchronized void cancel(K key) {
    pending.remove(key);
  }

  /** Returns {@code key}'s deadline, if it has one. */
  public synchronized Instant of(K key) {
    return pending.get(key);
  }

  /** Returns how many keys have a deadline. */
  public synchronized int size() {
    return pending.size();
  }
}
