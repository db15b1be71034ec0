package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.NoFlyWindow;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The release gate's fleet-wide rules, apart from the per-node {@link GateMachine}: each pool's
 * availability budget, the maintenance no-fly windows, the queue of locks waiting for either, and
 * the circuit breaker that stops automatic quarantine when too much of a pool turns UNHEALTHY at
 * once. It decides; the {@link ReleaseGate} writes, and tells it what was written ({@code put...},
 * {@code enqueued}, {@code dequeued}) so that memory follows the store.
 *
 * <p>Not thread-safe: the gate serialises every call.
 */
final class GatePolicy {
  private static final Logger log = Logger.getLogger(GatePolicy.class.getName());

  private final GateConfig config;
  private final Map<String, Budget> budgets = new HashMap<>();
  private final Map<String, NoFlyWindow> windows = new LinkedHashMap<>();
  private final Map<String, QueuedLock> queue = new LinkedHashMap<>();
  private final Map<String, Deque<Instant>> unhealthyTurns = new HashMap<>();
  private long lastQueueSequence;

  /**
   * Why a lock must wait.
   *
   * @param reason the message, with the numbers
   * @param window the no-fly window in the way; null when it is the budget
   */
  record Blocked(String reason, NoFlyWindow window) {}

  /** Starts from what the store holds. */
  GatePolicy(GateConfig config, GateStore.Snapshot snapshot) {
    this.config = requireNonNull(config, "config");
    for (QueuedLock q : snapshot.queue()) {
      queue.put(q.nodeId(), q);
      lastQueueSequence = Math.max(lastQueueSequence, q.sequence());
    }
    snapshot.windows().forEach(w -> windows.put(w.getId(), w));
    snapshot.budgets().forEach(b -> budgets.put(b.getPool(), b));
  }

  /** Returns the pool's budget: its own settings and counters, else the defaults. */
  Budget budget(String pool) {
    Budget b = budgets.get(pool);
    return b != null ? b : Budget.newBuilder().setPool(pool).setMaxNodesOut(config.maxNodesOut())
        .setMaxPercentOut(config.maxPercentOut()).build();
  }

  /** Returns the pools that have budget settings of their own. */
  Collection<String> budgetPools() {
    return budgets.keySet();
  }

  /** Returns the no-fly window in force for {@code pool} at {@code now}. */
  Optional<NoFlyWindow> activeWindow(String pool, Instant now) {
    return windows.values().stream()
        .filter(w -> w.getPool().isEmpty() || w.getPool().equals(pool))
        .filter(w -> !now.isBefore(ProtoTime.instant(w.getStart())) && now.isBefore(ProtoTime.instant(w.getEnd())))
        .findFirst();
  }

  /**
   * Returns why locking {@code s} must wait — a no-fly window, or the pool's budget given the
   * pool counts {@code view} — or null when it may be locked now. An UNHEALTHY node (an emergency)
   * is the caller's to let through.
   */
  Blocked blocked(GateStatus s, PoolCounts view, Instant now) {
    Optional<NoFlyWindow> w = activeWindow(s.getPool(), now);
    if (w.isPresent()) {
      return new Blocked("pool " + s.getPool() + " is in no-fly window " + w.get().getId() + " (" + w.get().getReason()
          + ") until " + GateText.iso(w.get().getEnd()), w.get());
    }
    int total = view.total(s.getPool());
    int out = view.out(s.getPool());
    if (out + (s.getHeld() ? 0 : 1) > PoolBudget.limit(budget(s.getPool()), total)) {
      return new Blocked(String.format(Locale.ROOT, "pool %s: %d of %d nodes out of service, budget allows %s", s.getPool(),
          out, total, PoolBudget.describe(budget(s.getPool()), total)), null);
    }
    return null;
  }

  /** Returns whether the pool's circuit breaker is open (automatic quarantine stopped). */
  boolean breakerOpen(String pool) {
    return budget(pool).getCircuitBreakerOpen();
  }

  /**
   * Notes that a node of {@code pool} (of {@code poolSize} nodes) turned UNHEALTHY at {@code now};
   * returns the pool's budget with the breaker open when this turn trips it (to write), else null.
   * The open breaker is effective at once, for the rest of the caller's pass.
   */
  Budget noteUnhealthyTurn(String pool, int poolSize, Instant now) {
    Deque<Instant> turns = unhealthyTurns.computeIfAbsent(pool, p -> new ArrayDeque<>());
    turns.addLast(now);
    while (!turns.isEmpty() && turns.peekFirst().isBefore(now.minus(config.breakerWindow()))) {
      turns.pollFirst();
    }
    if (breakerOpen(pool) || turns.size() < config.breakerMinNodes() || turns.size() <= config.breakerShare() * poolSize) {
      return null;
    }
    Budget open = budget(pool).toBuilder().setCircuitBreakerOpen(true).build();
    budgets.put(pool, open);
    log.severe("gate: circuit breaker OPEN for pool " + pool + ": " + turns.size() + " of " + poolSize + " nodes turned UNHEALTHY "
        + "within " + GateText.human(config.breakerWindow()) + "; automatic quarantine stopped until an admin resets it");
    return open;
  }

  /** Returns the budget with one more lock refused. */
  Budget refusedOne(Budget b) {
    return b.toBuilder().setRefusedLocks(b.getRefusedLocks() + 1).build();
  }

  /** Returns the window with one more lock refused. */
  NoFlyWindow refusedOne(NoFlyWindow w) {
    return w.toBuilder().setRefusedLocks(w.getRefusedLocks() + 1).build();
  }

  // ---------------------------------------------------------------- the queue

  /** Returns the queued locks, first in first. */
  Collection<QueuedLock> queue() {
    return queue.values();
  }

  /** Returns whether a lock of {@code nodeId} is queued. */
  boolean queued(String nodeId) {
    return queue.containsKey(nodeId);
  }

  /** Returns the sequence the last queued lock got (the next one gets more). */
  long lastQueueSequence() {
    return lastQueueSequence;
  }

  /** Records queued locks that were written. */
  void enqueued(Collection<QueuedLock> locks) {
    for (QueuedLock q : locks) {
      queue.put(q.nodeId(), q);
      lastQueueSequence = Math.max(lastQueueSequence, q.sequence());
    }
  }

  /** Records that a queued lock was granted or dropped (written). */
  void dequeued(String nodeId) {
    queue.remove(nodeId);
  }

  /** Returns whether a queued lock of the node in status {@code s} may be granted now. */
  boolean grantable(GateStatus s, PoolCounts view, Instant now) {
    return activeWindow(s.getPool(), now).isEmpty()
        && view.out(s.getPool()) + (s.getHeld() ? 0 : 1) <= PoolBudget.limit(budget(s.getPool()), view.total(s.getPool()));
  }

  /** Returns when the earliest no-fly window in force ends (a queued lock may be granted then), or null. */
  Instant nextWindowEnd(Instant now) {
    return windows.values().stream().map(w -> ProtoTime.instant(w.getEnd())).filter(end -> end.isAfter(now))
        .min(Instant::compareTo).orElse(null);
  }

  // ---------------------------------------------------------------- windows and budgets

  /** Returns the windows of {@code pool} (all pools when empty, plus all-pool windows), past ones only when asked. */
  List<NoFlyWindow> windows(String pool, boolean includePast, Instant now) {
    return windows.values().stream()
        .filter(w -> pool.isEmpty() || w.getPool().equals(pool) || w.getPool().isEmpty())
        .filter(w -> includePast || ProtoTime.instant(w.getEnd()).isAfter(now))
        .sorted(Comparator.comparing((NoFlyWindow w) -> ProtoTime.instant(w.getStart())))
        .toList();
  }

  /** Returns the window with id {@code id}. */
  Optional<NoFlyWindow> window(String id) {
    return Optional.ofNullable(windows.get(id));
  }

  /** Records a written window. */
  void putWindow(NoFlyWindow w) {
    windows.put(w.getId(), w);
  }

  /** Records a removed window. */
  void removeWindow(String id) {
    windows.remove(id);
  }

  /** Records a written budget. */
  void putBudget(Budget b) {
    budgets.put(b.getPool(), b);
  }

  /** Forgets the UNHEALTHY turns of a pool (its breaker was reset). */
  void resetTurns(String pool) {
    unhealthyTurns.remove(pool);
  }

  /** Returns the pool's budget with its current counts. */
  Budget withCounts(String pool, PoolCounts counts) {
    int total = counts.total(pool);
    int outNow = counts.out(pool);
    int limit = PoolBudget.limit(budget(pool), total);
    return budget(pool).toBuilder().setNodesTotal(total).setNodesOut(outNow).setLimitNodes(limit)
        .setNodesAvailableToTake(Math.max(0, limit - outNow))
        .setQueuedLocks((int) queue.values().stream().filter(q -> q.pool().equals(pool)).count())
        .build();
  }
}
