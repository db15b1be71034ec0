package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.NodeRegistry.Summary;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GateTransition;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.NoFlyWindow;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.Verdict;
import io.gpuwarden.proto.v1.VerificationProgress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * The release gate: one state machine per node, SERVING → LOCKED (taken for maintenance) →
 * VERIFYING (work reported complete) → SERVING, released by itself the moment verification
 * passes; or → QUARANTINED when verification fails or times out, back to VERIFYING on
 * {@code repair-done}.
 *
 * <p>Verification passes when the node's telemetry is fresh, its verdict has been HEALTHY for the
 * whole soak, and, when the lock expected a reboot, a new boot id has been seen. The collector's
 * verdict already carries the expected inventory of the pool, so a missing GPU or port fails it.
 *
 * <p>Safety: a node is <em>allocatable</em> only when SERVING, not held, its verdict acceptable and
 * its telemetry fresh; after a collector restart nothing is allocatable until fresh telemetry
 * arrives. Locks respect each pool's budget and no-fly windows (an UNHEALTHY node can always be
 * taken and still counts); held nodes are never released by automation; a node is never released
 * without verification except by an audited {@code release --force}. A circuit breaker stops
 * automatic quarantine when too much of a pool turns UNHEALTHY at once.
 *
 * <p>Durability: every change is written to the {@link GateStore} before it takes effect in memory
 * and before the API answers; a change whose write fails is not applied and the caller gets the
 * error. Releases found by one evaluation pass are written in one transaction, so many nodes
 * finishing their soak together are each released within one pass.
 *
 * <p>Thread-safe: mutations and evaluation passes are serialised on the gate.
 */
public final class ReleaseGate implements AutoCloseable {
  private static final Logger log = Logger.getLogger(ReleaseGate.class.getName());
  /** Actor of the gate's own transitions. */
  public static final String SYSTEM_ACTOR = "gpuwarden";
  private static final int PENDING_HISTORY_LIMIT = 100_000;

  private final GateStore store;
  private final NodeRegistry registry;
  private final GateConfig config;
  private final Duration staleAfter;
  private final Clock clock;
  private final Map<String, GateStatus> statuses = new TreeMap<>();
  private final Map<String, QueuedLock> queue = new LinkedHashMap<>();
  private final Map<String, NoFlyWindow> windows = new LinkedHashMap<>();
  private final Map<String, Budget> budgets = new HashMap<>();
  private final Map<String, Deque<Instant>> unhealthyTurns = new HashMap<>();
  private final Map<String, HealthState> lastVerdicts = new HashMap<>();
  private final Map<String, GateStatus> published = new HashMap<>();
  private final ConcurrentLinkedQueue<Pending> pendingHistory = new ConcurrentLinkedQueue<>();
  /** Drained by a pass whose write failed: written first by the next one. */
  private final Deque<Pending> retry = new ArrayDeque<>();
  private final List<DurableListener> durableListeners = new CopyOnWriteArrayList<>();
  private final AtomicInteger pendingHistorySize = new AtomicInteger();
  private final AtomicLong droppedHistory = new AtomicLong();
  private final AtomicLong storeFailures = new AtomicLong();
  private final List<GateListener> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService ticker;
  private long nextQueueSequence;
  private volatile String lastStoreError = "";

  /**
   * What waits to be written with the next pass: history entries of a node and, for an applied
   * batch, its stream and sequence — written in the same transaction as the batch's events, so a
   * batch is durable with its events or not at all.
   */
  private record Pending(String nodeId, List<HistoryEntry> entries, String streamId, long sequence) {}

  /** Hears when batches are durable: every batch of {@code streamId} up to {@code sequence} is stored. */
  @FunctionalInterface
  public interface DurableListener {
    /** Called on the gate's thread after the commit; must not block. */
    void durable(String nodeId, String streamId, long sequence);
  }

  /** Adds a listener of durable batches (the ingest service acknowledges them to agents). */
  public void addDurableListener(DurableListener l) {
    durableListeners.add(l);
  }

  /** Returns the batch sequences stored per (node, stream) when the gate started, to restore in the registry. */
  public List<GateStore.AppliedSequence> restoredApplied() {
    return restoredApplied;
  }

  private List<GateStore.AppliedSequence> restoredApplied = List.of();

  /** Receives gate status changes (state, hold, allocatable). Called on the gate's thread; must not block. */
  @FunctionalInterface
  public interface GateListener {
    /** {@code status} changed; {@code previouslyAllocatable} is what it was before. */
    void changed(GateStatus status, boolean previouslyAllocatable);
  }

  /**
   * Creates the gate over {@code store}, restoring its state, and subscribes to the registry's
   * verdicts and events for the history. Call {@link #start()} to begin evaluating.
   *
   * @param staleAfter how old a node's last batch may be for its telemetry to count as fresh
   */
  public ReleaseGate(GateStore store, NodeRegistry registry, GateConfig config, Duration staleAfter, Clock clock) {
    this.store = requireNonNull(store, "store");
    this.registry = requireNonNull(registry, "registry");
    this.config = requireNonNull(config, "config");
    this.staleAfter = requireNonNull(staleAfter, "staleAfter");
    this.clock = requireNonNull(clock, "clock");
    GateStore.Snapshot snapshot = store.load();
    snapshot.nodes().forEach(s -> statuses.put(s.getNodeId(), s));
    for (QueuedLock q : snapshot.queue()) {
      queue.put(q.nodeId(), q);
      nextQueueSequence = Math.max(nextQueueSequence, q.sequence());
    }
    snapshot.windows().forEach(w -> windows.put(w.getId(), w));
    snapshot.budgets().forEach(b -> budgets.put(b.getPool(), b));
    restoredApplied = snapshot.applied();
    restoredApplied.forEach(a -> registry.restoreApplied(a.nodeId(), a.streamId(), a.sequence()));
    registry.addListener(this::verdictChanged);
    registry.addBatchListener(this::batchApplied);
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gpuwarden-gate");
      t.setDaemon(true);
      return t;
    });
    log.info("release gate restored " + statuses.size() + " nodes (" + count(GateState.GATE_STATE_LOCKED) + " locked, "
        + count(GateState.GATE_STATE_VERIFYING) + " verifying, " + count(GateState.GATE_STATE_QUARANTINED) + " quarantined), "
        + queue.size() + " queued locks, " + windows.size() + " no-fly windows");
  }

  private long count(GateState s) {
    return statuses.values().stream().filter(x -> x.getState() == s).count();
  }

  /** Starts the evaluation passes. */
  public ReleaseGate start() {
    ticker.scheduleAtFixedRate(this::tickSafely, 0, config.tick().toNanos(), TimeUnit.NANOSECONDS);
    return this;
  }

  /** Adds a listener of status changes. */
  public void addListener(GateListener l) {
    listeners.add(l);
  }

  /** Removes a listener. */
  public void removeListener(GateListener l) {
    listeners.remove(l);
  }

  /** Returns the policy. */
  public GateConfig config() {
    return config;
  }

  // ---------------------------------------------------------------- history from the registry

  private void verdictChanged(Node node, HealthState previous) {
    offerHistory(node.getNodeId(), HistoryEntry.newBuilder().setTime(node.getVerdict().getEvaluatedAt())
        .setVerdict(node.getVerdict()).build());
  }

  private void batchApplied(String nodeId, String streamId, long sequence, List<Event> events) {
    List<HistoryEntry> entries = new ArrayList<>(events.size());
    for (Event e : events) {
      entries.add(HistoryEntry.newBuilder().setTime(e.hasTime() ? e.getTime() : ts(clock.instant())).setEvent(e).build());
    }
    offer(new Pending(nodeId, entries, streamId, sequence));
  }

  private void offerHistory(String nodeId, HistoryEntry entry) {
    offer(new Pending(nodeId, List.of(entry), null, 0));
  }

  private void offer(Pending p) {
    if (pendingHistorySize.incrementAndGet() > PENDING_HISTORY_LIMIT) {
      // Full (the store cannot keep up): keep the batch marker so agents still get their acks, drop the entries.
      droppedHistory.addAndGet(p.entries().size());
      if (p.streamId() == null) {
        pendingHistorySize.decrementAndGet();
        return;
      }
      p = new Pending(p.nodeId(), List.of(), p.streamId(), p.sequence());
    }
    pendingHistory.add(p);
  }

  /** Moves up to {@code max} pending entries into {@code write}; returns them (to retry on failure) and the durable marks. */
  private List<Pending> drain(GateWrite write, int max) {
    List<Pending> drained = new ArrayList<>();
    while (drained.size() < max && !retry.isEmpty()) {
      drained.add(retry.pollFirst());
    }
    Pending p;
    while (drained.size() < max && (p = pendingHistory.poll()) != null) {
      pendingHistorySize.decrementAndGet();
      drained.add(p);
    }
    Map<List<String>, Long> marks = new LinkedHashMap<>();
    for (Pending d : drained) {
      for (HistoryEntry e : d.entries()) {
        write.appendHistory(d.nodeId(), e);
      }
      if (d.streamId() != null) {
        marks.merge(List.of(d.nodeId(), d.streamId()), d.sequence(), Math::max);
      }
    }
    marks.forEach((k, seq) -> write.putApplied(k.get(0), k.get(1), seq));
    return drained;
  }

  /** After a successful write: tells the durable listeners. */
  private void durable(List<Pending> drained) {
    Map<List<String>, Long> marks = new LinkedHashMap<>();
    for (Pending d : drained) {
      if (d.streamId() != null) {
        marks.merge(List.of(d.nodeId(), d.streamId()), d.sequence(), Math::max);
      }
    }
    marks.forEach((k, seq) -> durableListeners.forEach(l -> l.durable(k.get(0), k.get(1), seq)));
  }

  /** After a failed write: the drained entries go first next time. */
  private void retryLater(List<Pending> drained) {
    for (int i = drained.size() - 1; i >= 0; i--) {
      retry.addFirst(drained.get(i));
    }
  }

  // ---------------------------------------------------------------- evaluation

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.warning("gate evaluation failed: " + e);
    }
  }

  /** One evaluation pass: new nodes, verification, auto-quarantine, queued locks; one store write. */
  public synchronized void tick() {
    Instant now = clock.instant();
    GateWrite write = new GateWrite();
    Map<String, GateStatus> next = new HashMap<>();
    List<Summary> nodes = registry.summaries();
    Map<String, Summary> byId = new HashMap<>();
    for (Summary n : nodes) {
      byId.put(n.getNodeId(), n);
      GateStatus s = statuses.get(n.getNodeId());
      if (s == null) {
        s = GateStatus.newBuilder().setNodeId(n.getNodeId()).setPool(n.getPool()).setState(GateState.GATE_STATE_SERVING)
            .setSince(ts(now)).build();
        next.put(n.getNodeId(), s);
        write.putNode(stored(s));
      } else if (!n.getPool().isEmpty() && !n.getPool().equals(s.getPool())) {
        s = s.toBuilder().setPool(n.getPool()).build();
        next.put(n.getNodeId(), s);
        write.putNode(stored(s));
      }
    }
    for (GateStatus s0 : statuses.values()) {
      GateStatus s = next.getOrDefault(s0.getNodeId(), s0);
      Summary n = byId.get(s.getNodeId());
      GateStatus changed = evaluate(s, n, now, write);
      if (changed != null) {
        next.put(s.getNodeId(), changed);
      }
    }
    for (Map.Entry<String, GateStatus> e : next.entrySet()) {
      if (!statuses.containsKey(e.getKey())) {
        GateStatus changed = evaluate(e.getValue(), byId.get(e.getKey()), now, write);
        if (changed != null) {
          e.setValue(changed);
        }
      }
    }
    Map<String, GateStatus> view = new HashMap<>(statuses);
    view.putAll(next);
    Map<String, GateStatus> granted = grantQueued(view, byId, now, write);
    List<Pending> drained = drain(write, 20_000);
    if (!write.isEmpty()) {
      try {
        store.write(write);
        lastStoreError = "";
      } catch (GateStoreException e) {
        storeFailures.incrementAndGet();
        lastStoreError = e.getMessage();
        retryLater(drained);
        log.warning("gate store write failed; the changes of this pass are not applied and will be retried: " + e.getMessage());
        return;
      }
    }
    durable(drained);
    statuses.putAll(next);
    granted.forEach((id, status) -> {
      queue.remove(id);
      if (status != null) {
        statuses.put(id, status);
      }
    });
    publish(now, byId, null);
  }

  /** Returns the node's new status when this pass changes it (and adds the write), else null. */
  private GateStatus evaluate(GateStatus s, Summary n, Instant now, GateWrite write) {
    HealthState verdict = n == null || !n.hasVerdict() ? HealthState.HEALTH_STATE_UNKNOWN : n.getVerdict().getState();
    boolean fresh = fresh(n, now);
    HealthState before = lastVerdicts.put(s.getNodeId(), verdict);
    boolean turnedUnhealthy = fresh && verdict == HealthState.HEALTH_STATE_UNHEALTHY && before != null
        && before != HealthState.HEALTH_STATE_UNHEALTHY && before != HealthState.HEALTH_STATE_UNKNOWN;
    if (turnedUnhealthy) {
      noteUnhealthyTurn(s.getPool(), now, write);
    }
    switch (s.getState()) {
      case GATE_STATE_SERVING:
        if (config.autoQuarantine() && fresh && verdict == HealthState.HEALTH_STATE_UNHEALTHY && !breakerOpen(s.getPool())) {
          String why = "node turned UNHEALTHY: " + firstReason(n);
          return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "auto-quarantine", n, now, write,
              b -> b.setQuarantineReason(why).clearLock().clearVerification());
        }
        return null;
      case GATE_STATE_VERIFYING:
        return verify(s, n, verdict, fresh, now, write);
      default:
        return null;
    }
  }

  private GateStatus verify(GateStatus s, Summary n, HealthState verdict, boolean fresh, Instant now, GateWrite write) {
    VerificationProgress v = s.getVerification();
    Instant started = instant(v.getStartedAt());
    if (fresh && verdict == HealthState.HEALTH_STATE_UNHEALTHY && n.getVerdict().hasSince()
        && !instant(n.getVerdict().getSince()).isBefore(started.minus(staleAfter))) {
      String why = "verification failed: verdict UNHEALTHY: " + firstReason(n);
      return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "verify-failed", n, now, write,
          b -> b.setQuarantineReason(why));
    }
    VerificationProgress.Builder p = v.toBuilder().clearPending();
    boolean newBoot = v.getNewBootSeen();
    if (s.getLock().getExpectReboot() && n != null && !n.getBootId().isEmpty()
        && !n.getBootId().equals(s.getLock().getBootIdAtLock())) {
      newBoot = true;
    }
    p.setNewBootSeen(newBoot);
    if (fresh && verdict == HealthState.HEALTH_STATE_HEALTHY && (!s.getLock().getExpectReboot() || newBoot)) {
      if (!p.hasHealthySince()) {
        Instant since = instant(n.getVerdict().getSince());
        p.setHealthySince(ts(since.isAfter(started) ? since : started));
      }
    } else {
      p.clearHealthySince();
    }
    List<String> pending = new ArrayList<>();
    if (n == null || !n.hasLastSeen()) {
      pending.add("no telemetry since the collector started");
    } else if (!fresh) {
      pending.add("telemetry stale (last batch " + age(instant(n.getLastSeen()), now) + " ago)");
    } else if (verdict != HealthState.HEALTH_STATE_HEALTHY) {
      pending.add("verdict " + word(verdict) + ": " + firstReason(n));
    }
    if (s.getLock().getExpectReboot() && !newBoot) {
      pending.add("waiting for a new boot id (was " + s.getLock().getBootIdAtLock() + ")");
    }
    Duration soaked = p.hasHealthySince() ? Duration.between(instant(p.getHealthySince()), now) : Duration.ZERO;
    if (soaked.compareTo(config.soak()) < 0) {
      pending.add("soak " + human(soaked) + " of " + human(config.soak()));
    }
    if (s.getHeld()) {
      pending.add("held: " + s.getHoldReason());
    }
    p.addAllPending(pending);
    if (pending.isEmpty()) {
      String why = "verification passed: HEALTHY with fresh telemetry for " + human(soaked)
          + (s.getLock().getExpectReboot() ? ", new boot " + n.getBootId() : "");
      return transition(s, GateState.GATE_STATE_SERVING, SYSTEM_ACTOR, why, "release", n, now, write,
          b -> b.clearLock().clearVerification().clearQuarantineReason());
    }
    if (!now.isBefore(instant(v.getDeadline()))) {
      String why = "verification timed out after " + human(Duration.between(started, now)) + ": " + String.join("; ", pending);
      return transition(s, GateState.GATE_STATE_QUARANTINED, SYSTEM_ACTOR, why, "verify-timeout", n, now, write,
          b -> b.setQuarantineReason(why).setVerification(p));
    }
    VerificationProgress updated = p.build();
    boolean persist = updated.hasHealthySince() != v.hasHealthySince() || updated.getNewBootSeen() != v.getNewBootSeen()
        || (updated.hasHealthySince() && !updated.getHealthySince().equals(v.getHealthySince()));
    GateStatus result = s.toBuilder().setVerification(updated).build();
    if (persist) {
      write.putNode(stored(result));
    }
    return result.equals(s) ? null : result;
  }

  private GateStatus transition(GateStatus s, GateState to, String actor, String reason, String action, Summary n, Instant now,
      GateWrite write, java.util.function.Consumer<GateStatus.Builder> edit) {
    GateStatus.Builder b = s.toBuilder().setState(to);
    if (s.getState() != to) {
      b.setSince(ts(now));
    }
    edit.accept(b);
    GateStatus result = b.build();
    write.putNode(stored(result));
    GateTransition.Builder t = GateTransition.newBuilder().setFromState(s.getState()).setToState(to).setActor(actor)
        .setReason(reason).setAction(action);
    if (n != null && n.hasVerdict()) {
      t.setVerdict(n.getVerdict());
    }
    write.appendHistory(s.getNodeId(), HistoryEntry.newBuilder().setTime(ts(now)).setTransition(t).build());
    if (s.getState() != to) {
      log.info("gate: " + s.getNodeId() + " " + word(s.getState()) + " -> " + word(to) + " by " + actor + ": " + reason);
    }
    return result;
  }

  private void noteUnhealthyTurn(String pool, Instant now, GateWrite write) {
    Deque<Instant> turns = unhealthyTurns.computeIfAbsent(pool, p -> new ArrayDeque<>());
    turns.addLast(now);
    while (!turns.isEmpty() && turns.peekFirst().isBefore(now.minus(config.breakerWindow()))) {
      turns.pollFirst();
    }
    int total = (int) statuses.values().stream().filter(x -> x.getPool().equals(pool)).count();
    if (!breakerOpen(pool) && turns.size() >= config.breakerMinNodes() && turns.size() > config.breakerShare() * total) {
      Budget b = budget(pool).toBuilder().setCircuitBreakerOpen(true).build();
      write.putBudget(b);
      budgets.put(pool, b); // also effective for the rest of this pass
      log.severe("gate: circuit breaker OPEN for pool " + pool + ": " + turns.size() + " of " + total + " nodes turned UNHEALTHY within "
          + human(config.breakerWindow()) + "; automatic quarantine stopped until an admin resets it");
    }
  }

  /** Grants queued locks the budget and windows allow; returns node id to its new status (null: just dequeued). */
  private Map<String, GateStatus> grantQueued(Map<String, GateStatus> view, Map<String, Summary> byId, Instant now, GateWrite write) {
    Map<String, GateStatus> done = new LinkedHashMap<>();
    for (QueuedLock q : queue.values()) {
      GateStatus s = view.get(q.nodeId());
      if (s == null || s.getState() != GateState.GATE_STATE_SERVING) {
        write.dequeue(q.nodeId());
        done.put(q.nodeId(), null);
        continue;
      }
      if (activeWindow(s.getPool(), now).isPresent()) {
        continue;
      }
      int out = out(view, s.getPool()) + (s.getHeld() ? 0 : 1);
      if (out > PoolBudget.limit(budget(s.getPool()), total(view, s.getPool()))) {
        continue;
      }
      Summary n = byId.get(q.nodeId());
      String waited = human(Duration.between(instant(q.lock().getLockedAt()), now));
      GateStatus locked = transition(s, GateState.GATE_STATE_LOCKED, q.lock().getActor(),
          q.lock().getReason() + " (granted from the queue after " + waited + ")", "lock", n, now, write,
          b -> b.setLock(q.lock().toBuilder().setLockedAt(ts(now)).setBootIdAtLock(n == null ? "" : n.getBootId())));
      view.put(q.nodeId(), locked);
      write.dequeue(q.nodeId());
      done.put(q.nodeId(), locked);
    }
    return done;
  }

  /** Tells listeners about changed statuses: of every node ({@code ids} null, with {@code byId} complete) or of {@code ids}. */
  private void publish(Instant now, Map<String, Summary> byId, java.util.Collection<String> ids) {
    for (GateStatus s : ids == null ? statuses.values() : ids.stream().map(statuses::get).filter(java.util.Objects::nonNull).toList()) {
      Summary n = ids == null ? byId.get(s.getNodeId()) : node(s.getNodeId());
      boolean allocatable = notAllocatableReasons(s, n, now).isEmpty();
      GateStatus before = published.get(s.getNodeId());
      boolean changed = before == null || before.getState() != s.getState() || before.getAllocatable() != allocatable
          || before.getHeld() != s.getHeld() || !before.getSince().equals(s.getSince());
      if (changed) {
        GateStatus view = withAllocatable(s, n, now);
        published.put(s.getNodeId(), view);
        boolean prev = before != null && before.getAllocatable();
        for (GateListener l : listeners) {
          l.changed(view, prev);
        }
      }
    }
  }

  // ---------------------------------------------------------------- queries

  private boolean fresh(Summary n, Instant now) {
    return n != null && n.lastSeenAt() != null && !n.lastSeenAt().plus(staleAfter).isBefore(now)
        && n.hasVerdict() && n.getVerdict().getState() != HealthState.HEALTH_STATE_UNKNOWN;
  }

  private GateStatus withAllocatable(GateStatus s, Summary n, Instant now) {
    List<String> why = notAllocatableReasons(s, n, now);
    return s.toBuilder().setAllocatable(why.isEmpty()).clearNotAllocatableReasons().addAllNotAllocatableReasons(why).build();
  }

  private List<String> notAllocatableReasons(GateStatus s, Summary n, Instant now) {
    List<String> why = new ArrayList<>(2);
    if (s.getState() != GateState.GATE_STATE_SERVING) {
      why.add("gate " + word(s.getState()));
    }
    if (s.getHeld()) {
      why.add("held: " + s.getHoldReason());
    }
    if (n == null || !n.hasLastSeen()) {
      why.add("no telemetry since the collector started");
    } else if (!fresh(n, now)) {
      why.add("telemetry stale (last batch " + age(instant(n.getLastSeen()), now) + " ago)");
    } else if (!config.allocatableStates().contains(n.getVerdict().getState())) {
      why.add("verdict " + word(n.getVerdict().getState()) + ": " + firstReason(n));
    }
    return why;
  }

  /**
   * Returns the status of each node matching {@code filter}, with allocatability, ordered by node
   * id. The filter sees the stored status (node id, pool, state, hold), not allocatability.
   */
  public synchronized List<GateStatus> statuses(Predicate<GateStatus> filter) {
    Instant now = clock.instant();
    List<GateStatus> out = new ArrayList<>();
    for (GateStatus s : statuses.values()) {
      if (filter.test(s)) {
        out.add(withAllocatable(s, registry.summary(s.getNodeId()).orElse(null), now));
      }
    }
    return out;
  }

  /** Returns one node's status, when the gate knows the node. */
  public synchronized Optional<GateStatus> status(String nodeId) {
    GateStatus s = statuses.get(nodeId);
    return s == null ? Optional.empty()
        : Optional.of(withAllocatable(s, registry.summary(nodeId).orElse(null), clock.instant()));
  }

  /** Returns the history of a node (see {@link GateStore#history}). */
  public List<HistoryEntry> history(String nodeId, Instant since, int limit) {
    synchronized (this) {
      flushHistory();
    }
    return store.history(nodeId, since, limit);
  }

  private void flushHistory() {
    while (!retry.isEmpty() || !pendingHistory.isEmpty()) {
      GateWrite w = new GateWrite();
      List<Pending> drained = drain(w, 20_000);
      if (w.isEmpty()) {
        return;
      }
      try {
        store.write(w);
      } catch (GateStoreException e) {
        retryLater(drained);
        throw e;
      }
      durable(drained);
    }
  }

  /** Returns every pool's budget with its current counts. */
  public synchronized List<Budget> budgets(String poolFilter) {
    Map<String, Budget> out = new TreeMap<>();
    for (GateStatus s : statuses.values()) {
      out.putIfAbsent(s.getPool(), null);
    }
    budgets.keySet().forEach(p -> out.putIfAbsent(p, null));
    List<Budget> result = new ArrayList<>();
    for (String pool : out.keySet()) {
      if (!poolFilter.isEmpty() && !poolFilter.equals(pool)) {
        continue;
      }
      result.add(withCounts(pool));
    }
    return result;
  }

  private Budget withCounts(String pool) {
    int total = total(statuses, pool);
    int outNow = out(statuses, pool);
    int limit = PoolBudget.limit(budget(pool), total);
    return budget(pool).toBuilder().setNodesTotal(total).setNodesOut(outNow).setLimitNodes(limit)
        .setNodesAvailableToTake(Math.max(0, limit - outNow))
        .setQueuedLocks((int) queue.values().stream().filter(q -> q.pool().equals(pool)).count())
        .build();
  }

  /** Returns the no-fly windows of {@code pool} (all pools when empty); past ones only when asked. */
  public synchronized List<NoFlyWindow> windows(String pool, boolean includePast) {
    Instant now = clock.instant();
    return windows.values().stream()
        .filter(w -> pool.isEmpty() || w.getPool().equals(pool) || w.getPool().isEmpty())
        .filter(w -> includePast || instant(w.getEnd()).isAfter(now))
        .sorted(Comparator.comparing((NoFlyWindow w) -> instant(w.getStart())))
        .toList();
  }

  /** Returns how many store writes failed since start, and the last failure. */
  public String storeHealth() {
    return storeFailures.get() + " failed writes" + (lastStoreError.isEmpty() ? "" : "; last: " + lastStoreError);
  }

  /** Returns how many store writes of evaluation passes failed since start. */
  public long storeFailures() {
    return storeFailures.get();
  }

  /** Returns history entries dropped because the store could not keep up (bounded buffer). */
  public long droppedHistory() {
    return droppedHistory.get();
  }

  /** Returns the pools of the nodes the gate knows. */
  public synchronized java.util.Set<String> pools() {
    java.util.Set<String> out = new java.util.HashSet<>();
    statuses.values().forEach(x -> out.add(x.getPool()));
    return out;
  }

  /** Returns the number of queued locks. */
  public synchronized int queued() {
    return queue.size();
  }

  // ---------------------------------------------------------------- mutations

  /**
   * Takes nodes for maintenance. Each is refused when not SERVING, already queued, or (unless its
   * verdict is UNHEALTHY: an emergency) inside a no-fly window or over its pool's budget; with
   * {@code wait}, those two are queued instead and granted first in, first out.
   */
  public synchronized List<NodeActionResult> lock(List<String> nodeIds, String reason, boolean expectReboot, boolean wait,
      String actor) {
    Instant now = clock.instant();
    List<NodeActionResult> results = new ArrayList<>();
    Map<String, GateStatus> view = new HashMap<>(statuses);
    GateWrite write = new GateWrite();
    Map<String, Budget> counters = new HashMap<>();
    Map<String, NoFlyWindow> windowCounters = new HashMap<>();
    Map<String, QueuedLock> enqueued = new LinkedHashMap<>();
    long seq = nextQueueSequence;
    for (String id : nodeIds) {
      GateStatus s = view.get(id);
      if (s == null) {
        results.add(notFound(id));
        continue;
      }
      if (s.getState() != GateState.GATE_STATE_SERVING) {
        results.add(refused(id, "node is " + word(s.getState()) + " since " + iso(instant(s.getSince()))
            + ": only SERVING nodes can be locked", s));
        continue;
      }
      if (queue.containsKey(id) || enqueued.containsKey(id)) {
        results.add(refused(id, "a lock of this node is already queued", s));
        continue;
      }
      Summary n = registry.summary(id).orElse(null);
      boolean emergency = n != null && n.hasVerdict() && n.getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY;
      LockInfo lock = LockInfo.newBuilder().setReason(reason).setActor(actor).setLockedAt(ts(now)).setExpectReboot(expectReboot)
          .setBootIdAtLock(n == null ? "" : n.getBootId()).setEmergency(emergency).build();
      if (!emergency) {
        Optional<NoFlyWindow> w = activeWindow(s.getPool(), now);
        String blocked = null;
        if (w.isPresent()) {
          blocked = "pool " + s.getPool() + " is in no-fly window " + w.get().getId() + " (" + w.get().getReason() + ") until "
              + iso(instant(w.get().getEnd()));
          NoFlyWindow counted = windowCounters.getOrDefault(w.get().getId(), w.get());
          counted = counted.toBuilder().setRefusedLocks(counted.getRefusedLocks() + 1).build();
          windowCounters.put(counted.getId(), counted);
        } else {
          int total = total(view, s.getPool());
          int out = out(view, s.getPool());
          int limit = PoolBudget.limit(budget(s.getPool()), total);
          if (out + (s.getHeld() ? 0 : 1) > limit) {
            blocked = String.format(Locale.ROOT, "pool %s: %d of %d nodes out of service, budget allows %s", s.getPool(), out,
                total, PoolBudget.describe(budget(s.getPool()), total));
          }
        }
        if (blocked != null) {
          Budget b = counters.getOrDefault(s.getPool(), budget(s.getPool()));
          counters.put(s.getPool(), b.toBuilder().setRefusedLocks(b.getRefusedLocks() + 1).build());
          if (wait) {
            QueuedLock q = new QueuedLock(++seq, id, s.getPool(), lock);
            enqueued.put(id, q);
            write.enqueue(q);
            results.add(result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_QUEUED,
                blocked + "; queued at position " + (queue.size() + enqueued.size()), s));
          } else {
            results.add(refused(id, blocked + "; lock refused (use --wait to queue it)", s));
          }
          continue;
        }
      }
      GateStatus locked = transition(s, GateState.GATE_STATE_LOCKED, actor, reason + (emergency ? " (emergency: node UNHEALTHY)" : ""),
          "lock", n, now, write, b -> b.setLock(lock).clearVerification().clearQuarantineReason());
      view.put(id, locked);
      results.add(result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED,
          emergency ? "locked (emergency: UNHEALTHY nodes bypass budget and no-fly windows, and count against the budget)"
              : "locked", locked));
    }
    counters.values().forEach(write::putBudget);
    windowCounters.values().forEach(write::putWindow);
    store.write(write);
    view.forEach(statuses::put);
    counters.forEach(budgets::put);
    windowCounters.forEach(windows::put);
    queue.putAll(enqueued);
    nextQueueSequence = seq;
    publish(now, Map.of(), nodeIds);
    return withViews(results);
  }

  /** Reports maintenance done: LOCKED → VERIFYING. */
  public synchronized List<NodeActionResult> complete(List<String> nodeIds, String reason, String actor) {
    Instant now = clock.instant();
    List<NodeActionResult> results = new ArrayList<>();
    GateWrite write = new GateWrite();
    Map<String, GateStatus> next = new HashMap<>();
    for (String id : nodeIds) {
      GateStatus s = next.getOrDefault(id, statuses.get(id));
      if (s == null) {
        results.add(notFound(id));
      } else if (s.getState() != GateState.GATE_STATE_LOCKED) {
        results.add(refused(id, "node is " + word(s.getState())
            + (s.getState() == GateState.GATE_STATE_QUARANTINED ? ": use repair-done after the repair" : ": only LOCKED nodes can complete"), s));
      } else {
        GateStatus v = transition(s, GateState.GATE_STATE_VERIFYING, actor, reason.isEmpty() ? "maintenance complete" : reason,
            "complete", registry.summary(id).orElse(null), now, write, b -> b.setVerification(verification(now)));
        next.put(id, v);
        results.add(result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED, "verifying: soak " + human(config.soak())
            + ", deadline in " + human(config.verifyTimeout()) + (s.getLock().getExpectReboot() ? ", new boot id required" : ""), v));
      }
    }
    return commit(write, next, results, now);
  }

  private VerificationProgress verification(Instant now) {
    return VerificationProgress.newBuilder().setStartedAt(ts(now)).setDeadline(ts(now.plus(config.verifyTimeout())))
        .setSoak(io.gpuwarden.common.ProtoTime.of(config.soak()))
        .build();
  }

  /** Holds a node out of service, in any state, until {@link #unhold}; automation never releases a held node. */
  public synchronized NodeActionResult hold(String nodeId, String reason, String actor) {
    return single(nodeId, s -> s.getHeld() ? "already held: " + s.getHoldReason() : null,
        (s, now, w) -> transition(s, s.getState(), actor, reason, "hold", node(nodeId), now, w,
            b -> b.setHeld(true).setHoldReason(reason)), "held");
  }

  /** Lifts a hold. */
  public synchronized NodeActionResult unhold(String nodeId, String reason, String actor) {
    return single(nodeId, s -> s.getHeld() ? null : "node is not held",
        (s, now, w) -> transition(s, s.getState(), actor, reason.isEmpty() ? "hold lifted" : reason, "unhold", node(nodeId), now, w,
            b -> b.setHeld(false).clearHoldReason()), "hold lifted");
  }

  /** Admin override: back to SERVING without verification. Needs {@code force}; refused for held nodes. */
  public synchronized NodeActionResult release(String nodeId, boolean force, String reason, String actor) {
    return single(nodeId, s -> !force ? "release needs --force: the gate releases nodes itself when verification passes"
            : s.getState() == GateState.GATE_STATE_SERVING ? "node is already SERVING"
            : s.getHeld() ? "node is held (" + s.getHoldReason() + "): unhold it first"
            : reason.isBlank() ? "a forced release needs a reason" : null,
        (s, now, w) -> transition(s, GateState.GATE_STATE_SERVING, actor, reason, "force-release", node(nodeId), now, w,
            b -> b.clearLock().clearVerification().clearQuarantineReason()), "released by force (audited)");
  }

  /** Quarantines a node by hand. */
  public synchronized NodeActionResult quarantine(String nodeId, String reason, String actor) {
    return single(nodeId, s -> s.getState() == GateState.GATE_STATE_QUARANTINED ? "node is already QUARANTINED" : null,
        (s, now, w) -> transition(s, GateState.GATE_STATE_QUARANTINED, actor, reason, "quarantine", node(nodeId), now, w,
            b -> b.setQuarantineReason(reason).clearVerification()), "quarantined");
  }

  /** After a repair: QUARANTINED → VERIFYING. */
  public synchronized NodeActionResult repairDone(String nodeId, String reason, boolean expectReboot, String actor) {
    return single(nodeId, s -> s.getState() == GateState.GATE_STATE_QUARANTINED ? null
            : "node is " + word(s.getState()) + ": only QUARANTINED nodes can report a repair",
        (s, now, w) -> {
          Summary n = node(nodeId);
          LockInfo lock = s.getLock().toBuilder().setExpectReboot(expectReboot).setBootIdAtLock(n == null ? "" : n.getBootId())
              .setReason(s.getLock().getReason().isEmpty() ? "repair" : s.getLock().getReason()).build();
          return transition(s, GateState.GATE_STATE_VERIFYING, actor, reason.isEmpty() ? "repair done" : reason, "repair-done", n,
              now, w, b -> b.setLock(lock).setVerification(verification(now)));
        }, "verifying after repair");
  }

  /** Adds a no-fly window. */
  public synchronized NoFlyWindow addWindow(String pool, Instant start, Instant end, String reason, String actor) {
    if (!end.isAfter(start)) {
      throw new IllegalArgumentException("no-fly window must end after it starts");
    }
    NoFlyWindow w = NoFlyWindow.newBuilder().setId("nfz-" + UUID.randomUUID().toString().substring(0, 8)).setPool(pool)
        .setStart(ts(start)).setEnd(ts(end)).setReason(reason).setActor(actor).build();
    store.write(new GateWrite().putWindow(w));
    windows.put(w.getId(), w);
    log.info("gate: no-fly window " + w.getId() + " for pool " + (pool.isEmpty() ? "(all)" : pool) + " added by " + actor + ": " + reason);
    return w;
  }

  /** Removes a no-fly window; empty when there is none with that id. */
  public synchronized Optional<NoFlyWindow> removeWindow(String id, String reason, String actor) {
    NoFlyWindow w = windows.get(id);
    if (w == null) {
      return Optional.empty();
    }
    store.write(new GateWrite().removeWindow(id));
    windows.remove(id);
    log.info("gate: no-fly window " + id + " removed by " + actor + (reason.isEmpty() ? "" : ": " + reason));
    return Optional.of(w);
  }

  /** Sets a pool's budget limits. */
  public synchronized Budget setBudget(String pool, int maxNodes, double maxPercent, String reason, String actor) {
    if (maxNodes < 0 || maxPercent < 0 || maxPercent > 100) {
      throw new IllegalArgumentException("budget needs max nodes >= 0 and 0 <= max percent <= 100");
    }
    Budget b = budget(pool).toBuilder().setMaxNodesOut(maxNodes).setMaxPercentOut(maxPercent).build();
    store.write(new GateWrite().putBudget(b));
    budgets.put(pool, b);
    log.info("gate: budget of pool " + pool + " set to " + maxNodes + " nodes / " + maxPercent + "% by " + actor + ": " + reason);
    return withCounts(pool);
  }

  /** Closes a pool's circuit breaker: automatic quarantine resumes. */
  public synchronized Budget resetBreaker(String pool, String reason, String actor) {
    Budget b = budget(pool).toBuilder().setCircuitBreakerOpen(false).build();
    store.write(new GateWrite().putBudget(b));
    budgets.put(pool, b);
    unhealthyTurns.remove(pool);
    log.info("gate: circuit breaker of pool " + pool + " reset by " + actor + ": " + reason);
    return withCounts(pool);
  }

  /** Returns whether a pool's circuit breaker is open. */
  public synchronized boolean breakerOpen(String pool) {
    return budget(pool).getCircuitBreakerOpen();
  }

  // ---------------------------------------------------------------- helpers

  @FunctionalInterface
  private interface Change {
    GateStatus apply(GateStatus s, Instant now, GateWrite write);
  }

  private NodeActionResult single(String nodeId, java.util.function.Function<GateStatus, String> refusal, Change change,
      String done) {
    Instant now = clock.instant();
    GateStatus s = statuses.get(nodeId);
    if (s == null) {
      return notFound(nodeId);
    }
    String why = refusal.apply(s);
    if (why != null) {
      return withViews(List.of(refused(nodeId, why, s))).get(0);
    }
    GateWrite write = new GateWrite();
    GateStatus next = change.apply(s, now, write);
    return commit(write, Map.of(nodeId, next), List.of(result(nodeId, NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED, done, next)),
        now).get(0);
  }

  private List<NodeActionResult> commit(GateWrite write, Map<String, GateStatus> next, List<NodeActionResult> results, Instant now) {
    if (!write.isEmpty()) {
      store.write(write);
    }
    statuses.putAll(next);
    publish(now, Map.of(), next.keySet());
    return withViews(results);
  }

  private List<NodeActionResult> withViews(List<NodeActionResult> results) {
    Instant now = clock.instant();
    List<NodeActionResult> out = new ArrayList<>();
    for (NodeActionResult r : results) {
      GateStatus s = statuses.get(r.getNodeId());
      out.add(s == null ? r : r.toBuilder().setStatus(withAllocatable(s, node(r.getNodeId()), now)).build());
    }
    return out;
  }

  private Summary node(String id) {
    return registry.summary(id).orElse(null);
  }

  private Budget budget(String pool) {
    Budget b = budgets.get(pool);
    return b != null ? b : Budget.newBuilder().setPool(pool).setMaxNodesOut(config.maxNodesOut())
        .setMaxPercentOut(config.maxPercentOut()).build();
  }

  private Optional<NoFlyWindow> activeWindow(String pool, Instant now) {
    return windows.values().stream()
        .filter(w -> w.getPool().isEmpty() || w.getPool().equals(pool))
        .filter(w -> !now.isBefore(instant(w.getStart())) && now.isBefore(instant(w.getEnd())))
        .findFirst();
  }

  private static int total(Map<String, GateStatus> view, String pool) {
    return (int) view.values().stream().filter(s -> s.getPool().equals(pool)).count();
  }

  private static int out(Map<String, GateStatus> view, String pool) {
    return (int) view.values().stream()
        .filter(s -> s.getPool().equals(pool) && (s.getState() != GateState.GATE_STATE_SERVING || s.getHeld())).count();
  }

  private static NodeActionResult notFound(String id) {
    return result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_NOT_FOUND,
        "no such node: the gate has never seen it (check the node id)", null);
  }

  /** Returns {@code t} as ISO-8601 UTC to the second, e.g. {@code 2026-12-03T14:00:00Z}. */
  static String iso(Instant t) {
    return java.time.format.DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
  }

  private static NodeActionResult refused(String id, String message, GateStatus s) {
    return result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED, message, s);
  }

  private static NodeActionResult result(String id, NodeActionOutcome outcome, String message, GateStatus s) {
    NodeActionResult.Builder b = NodeActionResult.newBuilder().setNodeId(id).setOutcome(outcome).setMessage(message);
    if (s != null) {
      b.setStatus(s);
    }
    return b.build();
  }

  private static String firstReason(Summary n) {
    if (n == null || !n.hasVerdict() || n.getVerdict().getReasonsCount() == 0) {
      return "no reason given";
    }
    Verdict v = n.getVerdict();
    return v.getReasons(0).getMessage() + (v.getReasonsCount() > 1 ? " (+" + (v.getReasonsCount() - 1) + " more)" : "");
  }

  /** What is stored of a status: without the fields derived on every pass (allocatable, pending). */
  private static GateStatus stored(GateStatus s) {
    GateStatus.Builder b = s.toBuilder().clearAllocatable().clearNotAllocatableReasons();
    if (b.hasVerification()) {
      b.getVerificationBuilder().clearPending();
    }
    return b.build();
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static String word(GateState s) {
    return s.name().replace("GATE_STATE_", "");
  }

  private static String word(HealthState s) {
    return s.name().replace("HEALTH_STATE_", "");
  }

  private static String age(Instant t, Instant now) {
    return human(Duration.between(t, now));
  }

  static String human(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 60) {
      return String.format(Locale.ROOT, "%.1fs", Math.max(0, d.toMillis()) / 1000.0);
    }
    if (s < 3600) {
      return (s / 60) + "m" + (s % 60 == 0 ? "" : (s % 60) + "s");
    }
    return (s / 3600) + "h" + ((s % 3600) / 60 == 0 ? "" : ((s % 3600) / 60) + "m");
  }

  /** Stops the evaluation passes and writes the history still buffered. Does not close the store. */
  @Override
  public void close() {
    ticker.shutdownNow();
    try {
      ticker.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      try {
        flushHistory();
      } catch (GateStoreException e) {
        log.warning("could not write the last history entries: " + e.getMessage());
      }
    }
  }
}
