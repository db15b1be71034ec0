package io.gpuwarden.collector.ingest;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.gate.GateStore;
import io.gpuwarden.collector.gate.GateStoreException;
import io.gpuwarden.collector.gate.GateWrite;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.HistoryEntry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * Makes what agents send durable and says when it is: every applied batch's notable events and
 * every verdict change go into the node's history, and each batch's (stream, sequence) with them,
 * in one transaction per group. A writer thread takes whatever has arrived since its last commit
 * as the next group (group commit), so a batch is acknowledged to its agent ({@link
 * DurableListener}) one commit after it arrived, not after anyone else's pass, and the rate of
 * commits, not of batches, is what the disk sees.
 *
 * <p>Bounded, with backpressure: past {@link #PENDING_LIMIT} waiting batches and entries (the store
 * cannot keep up, or fails) the ingest streams stop reading ({@link #whenRoom}): each applies the
 * batch it has and asks for its next one only once the journal has room again, so agents keep their
 * batches in their spools and at most one batch per stream is added past the limit. A verdict change
 * that arrives while full keeps its place but its history entry is dropped and counted. A failed
 * commit is retried, with backoff, before anything newer; nothing is acknowledged until it succeeds.
 *
 * <p>Thread-safe.
 */
public final class IngestJournal implements AutoCloseable {
  private static final Logger log = Logger.getLogger(IngestJournal.class.getName());
  /** Most batches and history entries waiting to be written before the ingest streams stop reading. */
  public static final int PENDING_LIMIT = 100_000;
  /** Most batches and entries in one transaction. */
  static final int GROUP_LIMIT = 20_000;
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

  /**
   * What waits to be written: history entries of a node and, for an applied batch, its stream and
   * sequence, written in the same transaction as the batch's events.
   */
  private record Pending(long order, String nodeId, List<HistoryEntry> entries, String streamId, long sequence) {}

  /** Hears when batches are durable: every batch of {@code streamId} up to {@code sequence} is stored. */
  @FunctionalInterface
  public interface DurableListener {
    /** Called on the journal's thread after the commit; must not block. */
    void durable(String nodeId, String streamId, long sequence);
  }

  private final GateStore store;
  private final Clock clock;
  private final List<GateStore.AppliedSequence> restored;
  private final List<DurableListener> listeners = new CopyOnWriteArrayList<>();
  private final Deque<Pending> pending = new ArrayDeque<>();
  /** Drained by a commit that failed: written first by the next one. */
  private final Deque<Pending> retry = new ArrayDeque<>();
  private final AtomicLong droppedHistory = new AtomicLong();
  private final AtomicLong writeFailures = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final Thread writer;
  private long offered;
  private long written;
  private boolean closed;
  private volatile String lastError = "";

  private final int limit;
  /** Streams waiting for room: each asks for its next batch when it is run. */
  private final Deque<Runnable> waitingForRoom = new ArrayDeque<>();
  private final AtomicLong pausedStreams = new AtomicLong();

  private IngestJournal(GateStore store, Clock clock, List<GateStore.AppliedSequence> restored, int limit) {
    this.limit = limit;
    this.store = store;
    this.clock = clock;
    this.restored = List.copyOf(restored);
    this.writer = new Thread(this::writeLoop, "gpuwarden-journal");
    this.writer.setDaemon(true);
  }

  /**
   * Opens the journal over {@code store}: restores into {@code registry} which batches were
   * durable before a restart, subscribes to its change feed and starts writing.
   */
  public static IngestJournal start(GateStore store, NodeRegistry registry, Clock clock) {
    return start(store, registry, clock, PENDING_LIMIT);
  }

  /** Opens the journal letting at most {@code limit} batches and entries wait (tests use a small one). */
  public static IngestJournal start(GateStore store, NodeRegistry registry, Clock clock, int limit) {
    requireNonNull(store, "store");
    requireNonNull(registry, "registry");
    if (limit < 1) {
      throw new IllegalArgumentException("journal limit must be at least 1, got " + limit);
    }
    IngestJournal journal = new IngestJournal(store, requireNonNull(clock, "clock"), store.load().applied(), limit);
    journal.restored.forEach(a -> registry.restoreApplied(a.nodeId(), a.streamId(), a.sequence()));
    registry.feed().subscribe(journal::on);
    journal.writer.start();
    return journal;
  }

  /** Returns the batch sequences that were durable when the journal started. */
  public List<GateStore.AppliedSequence> restoredApplied() {
    return restored;
  }

  /** Adds a listener of durable batches (the ingest service acknowledges them to agents). */
  public void addDurableListener(DurableListener l) {
    listeners.add(requireNonNull(l, "l"));
  }

  private void on(Change change) {
    if (change instanceof Change.BatchApplied b) {
      List<HistoryEntry> entries = new ArrayList<>(b.notable().size());
      for (Event e : b.notable()) {
        entries.add(HistoryEntry.newBuilder().setTime(e.hasTime() ? e.getTime() : ProtoTime.of(clock.instant())).setEvent(e)
            .build());
      }
      offer(b.nodeId(), entries, b.streamId(), b.sequence());
    } else if (change instanceof Change.VerdictChanged v) {
      offer(v.nodeId(), List.of(HistoryEntry.newBuilder().setTime(v.node().getVerdict().getEvaluatedAt())
          .setVerdict(v.node().getVerdict()).build()), null, 0);
    }
  }

  private synchronized void offer(String nodeId, List<HistoryEntry> entries, String streamId, long sequence) {
    if (streamId == null && pending.size() + retry.size() >= limit) {
      droppedHistory.addAndGet(entries.size()); // full, and a verdict change cannot be made to wait: its entry goes
      return;
    }
    pending.addLast(new Pending(++offered, nodeId, entries, streamId, sequence));
    notifyAll();
  }

  /**
   * Runs {@code resume} (a stream asking for its next batch) now when the journal has room, else
   * once a commit has made room: the ingest streams' backpressure. Never blocks.
   */
  public void whenRoom(Runnable resume) {
    synchronized (this) {
      if (pending.size() + retry.size() >= limit) {
        waitingForRoom.addLast(resume);
        pausedStreams.incrementAndGet();
        return;
      }
    }
    resume.run();
  }

  /** Returns how many times a stream had to wait for room (the store did not keep up). */
  public long pausedStreams() {
    return pausedStreams.get();
  }

  /** Runs the streams waiting for room while there is some. */
  private void resumeWaiting() {
    while (true) {
      Runnable next;
      synchronized (this) {
        if (waitingForRoom.isEmpty() || pending.size() + retry.size() >= limit) {
          return;
        }
        next = waitingForRoom.pollFirst();
      }
      try {
        next.run();
      } catch (RuntimeException e) {
        log.warning("resuming an ingest stream failed: " + e);
      }
    }
  }

  private void writeLoop() {
    Duration backoff = Duration.ofMillis(50);
    while (true) {
      List<Pending> group;
      synchronized (this) {
        while (pending.isEmpty() && retry.isEmpty() && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (pending.isEmpty() && retry.isEmpty()) {
          return; // closed and nothing left
        }
        group = take();
      }
      if (commit(group)) {
        backoff = Duration.ofMillis(50);
        continue;
      }
      synchronized (this) {
        if (closed) {
          return;
        }
        try {
          wait(backoff.toMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  /** Takes the next group, oldest first (the retried ones before anything newer). Holds the lock. */
  private List<Pending> take() {
    List<Pending> group = new ArrayList<>();
    while (group.size() < GROUP_LIMIT && !retry.isEmpty()) {
      group.add(retry.pollFirst());
    }
    while (group.size() < GROUP_LIMIT && !pending.isEmpty()) {
      group.add(pending.pollFirst());
    }
    return group;
  }

  /** Writes {@code group} in one transaction; on success tells the listeners, on failure keeps it for a retry. */
  private boolean commit(List<Pending> group) {
    GateWrite write = new GateWrite();
    Map<List<String>, Long> marks = new LinkedHashMap<>();
    for (Pending p : group) {
      for (HistoryEntry e : p.entries()) {
        write.appendHistory(p.nodeId(), e);
      }
      if (p.streamId() != null) {
        marks.merge(List.of(p.nodeId(), p.streamId()), p.sequence(), Math::max);
      }
    }
    marks.forEach((k, seq) -> write.putApplied(k.get(0), k.get(1), seq));
    try {
      if (!write.isEmpty()) {
        store.write(write);
      }
    } catch (GateStoreException e) {
      writeFailures.incrementAndGet();
      if (!e.getMessage().equals(lastError)) {
        log.warning("journal write failed; " + group.size() + " batches and entries wait and are retried, agents are not "
            + "acknowledged meanwhile: " + e.getMessage());
      }
      lastError = e.getMessage();
      synchronized (this) {
        for (int i = group.size() - 1; i >= 0; i--) {
          retry.addFirst(group.get(i));
        }
        notifyAll();
      }
      return false;
    }
    if (!lastError.isEmpty()) {
      log.info("journal writes succeed again");
      lastError = "";
    }
    commits.incrementAndGet();
    marks.forEach((k, seq) -> listeners.forEach(l -> {
      try {
        l.durable(k.get(0), k.get(1), seq);
      } catch (RuntimeException e) {
        // One stream's trouble (it ended, its peer is gone) must not keep the others from their acknowledgements.
        log.warning("a durable-batch listener failed for " + k.get(0) + ": " + e);
      }
    }));
    synchronized (this) {
      written = Math.max(written, group.get(group.size() - 1).order());
      notifyAll();
    }
    resumeWaiting();
    return true;
  }

  /**
   * Waits until everything offered before this call is written (e.g. before a history query), at
   * most {@code timeout}.
   *
   * @throws GateStoreException when it is not written in time (the store is failing: the last error)
   */
  public void flush(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      long target = offered;
      while (written < target) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new GateStoreException("history not written within " + timeout.toMillis() + " ms"
              + (lastError.isEmpty() ? "" : ": " + lastError), null);
        }
        try {
          wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new GateStoreException("interrupted while waiting for the history to be written", e);
        }
      }
    }
  }

  /** Returns the history of a node (see {@link GateStore#history}), after writing what waits. */
  public List<HistoryEntry> history(String nodeId, Instant since, int limit) {
    flush(Duration.ofSeconds(10));
    return store.history(nodeId, since, limit);
  }

  /** Returns history entries dropped because the store could not keep up. */
  public long droppedHistory() {
    return droppedHistory.get();
  }

  /** Returns how many commits failed since start. */
  public long writeFailures() {
    return writeFailures.get();
  }

  /** Returns how many commits succeeded since start. */
  public long commits() {
    return commits.get();
  }

  /** Returns the last write error, empty while writes succeed. */
  public String lastError() {
    return lastError;
  }

  /** Returns how many batches and entries wait to be written. */
  public synchronized int waiting() {
    return pending.size() + retry.size();
  }

  /** Writes what is left (waiting up to 5 s) and stops the writer. Does not close the store. */
  @Override
  public void close() {
    try {
      flush(Duration.ofSeconds(5));
    } catch (GateStoreException e) {
      log.warning("could not write the last history entries: " + e.getMessage());
    }
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      writer.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
