package io.gpuwarden.collector.gate;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.feed.ChangeFeed;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Budget;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.NoFlyWindow;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.NodeActionResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * The release gate: takes nodes for maintenance, verifies them afterwards and releases each the
 * moment it passes; quarantines what fails. It holds every node's {@link GateStatus} and drives
 * them through the {@link GateMachine} (one node: status, facts, command or time → transition)
 * within the {@link GatePolicy} (budgets, no-fly windows, the lock queue, the circuit breaker),
 * writes through the {@link GateStore}, and publishes every status change on the registry's
 * {@link ChangeFeed}.
 *
 * <p>Safety: a node is <em>allocatable</em> only when SERVING, not held, its verdict acceptable and
 * its telemetry fresh; after a collector restart nothing is allocatable until fresh telemetry
 * arrives. Locks respect each pool's budget and no-fly windows (an UNHEALTHY node can always be
 * taken and still counts); held nodes are never released by automation; a node is never released
 * without verification except by an audited {@code release --force}. A circuit breaker stops
 * automatic quarantine when too much of a pool turns UNHEALTHY at once.
 *
 * <p>Durability: every change is written to the store before it takes effect in memory and before
 * the API answers; a change whose write fails is not applied and the caller gets the error.
 * Releases found by one evaluation pass are written in one transaction. (Agents' batches and the
 * nodes' event and verdict history are the {@code IngestJournal}'s to write, not the gate's.)
 *
 * <p>Thread-safe: mutations and evaluation passes are serialised on the gate.
 */
public final class ReleaseGate implements AutoCloseable {
  private static final Logger log = Logger.getLogger(ReleaseGate.class.getName());
  /** Actor of the gate's own transitions. */
  public static final String SYSTEM_ACTOR = GateMachine.SYSTEM_ACTOR;

  /** The passes use these under the gate's lock. */
  final GateStore store;
  final NodeRegistry registry;
  private final ChangeFeed feed;
  private final GateConfig config;
  final GateMachine machine;
  final GatePolicy policy;
  private final PolicyChanges policyChanges;
  final Clock clock;
  /** Every node's stored status. */
  final Map<String, GateStatus> statuses = new TreeMap<>();
  /** How many nodes each pool has and has out of service, kept with {@link #statuses}. */
  final PoolCounts counts;
  /** Which nodes the next pass looks at. */
  private final GateAttention attention;
  private final Map<String, HealthState> lastVerdicts = new HashMap<>();
  private final GatePublisher publisher;
  private final AtomicLong storeFailures = new AtomicLong();
  private final ScheduledExecutorService ticker;
  private volatile String lastStoreError = "";
  private volatile int lastPassNodes;

  /** Receives gate status changes (state, hold, allocatable). Called on the gate's thread; must not block. */
  @FunctionalInterface
  public interface GateListener {
    /** {@code status} changed; {@code previouslyAllocatable} is what it was before. */
    void changed(GateStatus status, boolean previouslyAllocatable);
  }

  /**
   * Creates the gate over {@code store}, restoring its state. Call {@link #start()} to begin evaluating.
   *
   * @param staleAfter how old a node's last batch may be for its telemetry to count as fresh
   */
  public ReleaseGate(GateStore store, NodeRegistry registry, GateConfig config, Duration staleAfter, Clock clock) {
    this.store = requireNonNull(store, "store");
    this.registry = requireNonNull(registry, "registry");
    this.feed = registry.feed();
    this.publisher = new GatePublisher(feed);
    this.config = requireNonNull(config, "config");
    this.machine = new GateMachine(config, staleAfter);
    this.clock = requireNonNull(clock, "clock");
    GateStore.Snapshot snapshot = store.load();
    snapshot.nodes().forEach(s -> statuses.put(s.getNodeId(), s));
    this.counts = PoolCounts.of(statuses.values());
    this.attention = new GateAttention(config.soak());
    statuses.values().forEach(attention::track);
    feed.subscribe(attention::heard);
    this.policy = new GatePolicy(config, snapshot);
    this.policyChanges = new PolicyChanges(store, policy);
    this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gpuwarden-gate");
      t.setDaemon(true);
      return t;
    });
    log.info("release gate restored " + statuses.size() + " nodes (" + count(GateState.GATE_STATE_LOCKED) + " locked, "
        + count(GateState.GATE_STATE_VERIFYING) + " verifying, " + count(GateState.GATE_STATE_QUARANTINED) + " quarantined), "
        + snapshot.queue().size() + " queued locks, " + snapshot.windows().size() + " no-fly windows");
  }

  private long count(GateState s) {
    return statuses.values().stream().filter(x -> x.getState() == s).count();
  }

  /** Starts the evaluation passes. */
  public ReleaseGate start() {
    ticker.scheduleAtFixedRate(this::tickSafely, 0, config.tick().toNanos(), TimeUnit.NANOSECONDS);
    return this;
  }

  /** Subscribes {@code l} to the gate's status changes on the change feed; close the subscription to stop. */
  public ChangeFeed.Subscription addListener(GateListener l) {
    return feed.subscribe(change -> {
      if (change instanceof Change.GateChanged g) {
        l.changed(g.status(), g.previouslyAllocatable());
      }
    });
  }

  /** Returns the policy's settings. */
  public GateConfig config() {
    return config;
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
    Set<String> ids = attention.take(now);
    lastPassNodes = ids.size();
    if (ids.isEmpty() && policy.queue().isEmpty()) {
      return;
    }
    if (new EvaluationPass(this, lastVerdicts, now).run(ids)) {
      lastStoreError = "";
      ids.forEach(id -> attention.rearm(statuses.get(id), now));
    } else {
      attention.again(ids); // not applied: look again next pass
    }
  }

  /** After a pass's write failed: counts it; nothing of the pass is applied. */
  void passFailed(GateStoreException e) {
    storeFailures.incrementAndGet();
    lastStoreError = e.getMessage();
    log.warning("gate store write failed; the changes of this pass are not applied and will be retried: " + e.getMessage());
  }

  /** Adds {@code step} of the node in status {@code s} to {@code write}; returns the next status. */
  GateStatus record(GateStatus s, GateMachine.Step step, Instant now, GateWrite write) {
    if (step.persist()) {
      write.putNode(GateMachine.stored(step.next()));
    }
    if (step.transition() != null) {
      write.appendHistory(s.getNodeId(), HistoryEntry.newBuilder().setTime(ProtoTime.of(now)).setTransition(step.transition())
          .build());
      if (s.getState() != step.next().getState()) {
        log.info("gate: " + s.getNodeId() + " " + GateText.word(s.getState()) + " -> " + GateText.word(step.next().getState())
            + " by " + step.transition().getActor() + ": " + step.transition().getReason());
      }
    }
    return step.next();
  }

  /** Publishes the statuses of {@code ids} whose state, hold, since or allocatability changed. */
  private void publish(Instant now, Map<String, NodeSummary> byId, Collection<String> ids) {
    for (String id : ids) {
      GateStatus s = statuses.get(id);
      if (s != null) {
        publisher.offer(machine.withAllocatable(s, byId.containsKey(id) ? byId.get(id) : node(id), now));
      }
    }
  }

  // ---------------------------------------------------------------- queries

  /**
   * Returns the status of each node matching {@code filter}, with allocatability, ordered by node
   * id. The filter sees the stored status (node id, pool, state, hold), not allocatability.
   */
  public synchronized List<GateStatus> statuses(Predicate<GateStatus> filter) {
    Instant now = clock.instant();
    List<GateStatus> out = new ArrayList<>();
    for (GateStatus s : statuses.values()) {
      if (filter.test(s)) {
        out.add(view(s, node(s.getNodeId()), now));
      }
    }
    return out;
  }

  /** Returns one node's status, when the gate knows the node. */
  public synchronized Optional<GateStatus> status(String nodeId) {
    GateStatus s = statuses.get(nodeId);
    return s == null ? Optional.empty() : Optional.of(view(s, node(nodeId), clock.instant()));
  }

  /**
   * The status as a reader sees it now: with allocatability, and for a node under verification what
   * it still waits for (the soak left, a new boot id, fresh telemetry), computed at the read.
   */
  private GateStatus view(GateStatus s, NodeSummary n, Instant now) {
    GateStatus shown = s;
    if (s.getState() == GateState.GATE_STATE_VERIFYING) {
      // Only what it waits for: progress (the soak's start, a new boot seen) is the passes' to record.
      shown = s.toBuilder().setVerification(s.getVerification().toBuilder().clearPending()
          .addAllPending(machine.pending(s, n, now))).build();
    }
    return machine.withAllocatable(shown, n, now);
  }

  /** Returns the pools of the nodes the gate knows. */
  public synchronized Set<String> pools() {
    Set<String> out = new HashSet<>();
    statuses.values().forEach(x -> out.add(x.getPool()));
    return out;
  }

  /** Returns every pool's budget (or {@code poolFilter}'s) with its current counts. */
  public synchronized List<Budget> budgets(String poolFilter) {
    Set<String> pools = new TreeSet<>(pools());
    pools.addAll(policy.budgetPools());
    return pools.stream().filter(p -> poolFilter.isEmpty() || poolFilter.equals(p)).map(p -> policy.withCounts(p, counts))
        .toList();
  }

  /** Returns the no-fly windows of {@code pool} (all pools when empty); past ones only when asked. */
  public synchronized List<NoFlyWindow> windows(String pool, boolean includePast) {
    return policy.windows(pool, includePast, clock.instant());
  }

  /** Returns how many store writes failed since start, and the last failure. */
  public String storeHealth() {
    return storeFailures.get() + " failed writes" + (lastStoreError.isEmpty() ? "" : "; last: " + lastStoreError);
  }

  /** Returns how many nodes the last evaluation pass looked at (those that changed or whose time came). */
  public int lastPassNodes() {
    return lastPassNodes;
  }

  /** Returns how many store writes of evaluation passes failed since start. */
  public long storeFailures() {
    return storeFailures.get();
  }

  /** Returns the number of queued locks. */
  public synchronized int queued() {
    return policy.queue().size();
  }

  /** Returns whether a pool's circuit breaker is open. */
  public synchronized boolean breakerOpen(String pool) {
    return policy.breakerOpen(pool);
  }

  // ---------------------------------------------------------------- node commands

  /**
   * Takes nodes for maintenance. Each is refused when not SERVING, already queued, or (unless its
   * verdict is UNHEALTHY: an emergency) inside a no-fly window or over its pool's budget; with
   * {@code wait}, those two are queued instead and granted first in, first out.
   */
  public synchronized List<NodeActionResult> lock(List<String> nodeIds, String reason, boolean expectReboot, boolean wait,
      String actor) {
    return new LockPass(this, nodeIds, reason, expectReboot, wait, actor).run();
  }

  /** Reports maintenance done: LOCKED → VERIFYING. */
  public synchronized List<NodeActionResult> complete(List<String> nodeIds, String reason, String actor) {
    return apply(nodeIds, (s, n, now) -> machine.complete(s, reason, actor, n, now),
        s -> "verifying: soak " + GateText.human(config.soak()) + ", deadline in " + GateText.human(config.verifyTimeout())
            + (s.getLock().getExpectReboot() ? ", new boot id required" : ""));
  }

  /** Holds a node out of service, in any state, until {@link #unhold}; automation never releases a held node. */
  public synchronized NodeActionResult hold(String nodeId, String reason, String actor) {
    return single(nodeId, (s, n, now) -> machine.hold(s, reason, actor, n, now), "held");
  }

  /** Lifts a hold. */
  public synchronized NodeActionResult unhold(String nodeId, String reason, String actor) {
    return single(nodeId, (s, n, now) -> machine.unhold(s, reason, actor, n, now), "hold lifted");
  }

  /** Admin override: back to SERVING without verification. Needs {@code force}; refused for held nodes. */
  public synchronized NodeActionResult release(String nodeId, boolean force, String reason, String actor) {
    return single(nodeId, (s, n, now) -> machine.release(s, force, reason, actor, n, now), "released by force (audited)");
  }

  /** Quarantines a node by hand. */
  public synchronized NodeActionResult quarantine(String nodeId, String reason, String actor) {
    return single(nodeId, (s, n, now) -> machine.quarantine(s, reason, actor, n, now), "quarantined");
  }

  /** After a repair: QUARANTINED → VERIFYING. */
  public synchronized NodeActionResult repairDone(String nodeId, String reason, boolean expectReboot, String actor) {
    return single(nodeId, (s, n, now) -> machine.repairDone(s, reason, expectReboot, actor, n, now), "verifying after repair");
  }

  // ---------------------------------------------------------------- policy commands (PolicyChanges)

  /** Adds a no-fly window. */
  public synchronized NoFlyWindow addWindow(String pool, Instant start, Instant end, String reason, String actor) {
    return policyChanges.addWindow(pool, start, end, reason, actor);
  }

  /** Removes a no-fly window; empty when there is none with that id. */
  public synchronized Optional<NoFlyWindow> removeWindow(String id, String reason, String actor) {
    return policyChanges.removeWindow(id, reason, actor);
  }

  /** Sets a pool's budget limits; returns it with its counts. */
  public synchronized Budget setBudget(String pool, int maxNodes, double maxPercent, String reason, String actor) {
    return policyChanges.setBudget(pool, maxNodes, maxPercent, reason, actor, counts);
  }

  /** Closes a pool's circuit breaker: automatic quarantine resumes. */
  public synchronized Budget resetBreaker(String pool, String reason, String actor) {
    return policyChanges.resetBreaker(pool, reason, actor, counts);
  }

  // ---------------------------------------------------------------- for the passes (LockPass, EvaluationPass)

  /** After a command's write was stored: the statuses in {@code next} are in force; publishes them. */
  void applied(Map<String, GateStatus> next, Instant now) {
    put(next);
    publish(now, Map.of(), next.keySet());
  }

  private void put(Map<String, GateStatus> next) {
    next.forEach((id, after) -> {
      counts.change(statuses.put(id, after), after);
      attention.track(after);
    });
  }

  /**
   * After an evaluation pass's write was stored: the statuses in {@code next} are in force; publishes
   * every node the pass looked at whose status or allocatability moved.
   */
  void applied(Map<String, GateStatus> next, Map<String, NodeSummary> byId, Instant now) {
    put(next);
    Set<String> looked = new TreeSet<>(byId.keySet());
    looked.addAll(next.keySet());
    publish(now, byId, looked);
  }



  // ---------------------------------------------------------------- helpers

  /** One node's command, as the machine decides it. */
  @FunctionalInterface
  private interface Command {
    GateMachine.Decision decide(GateStatus s, NodeSummary n, Instant now);
  }

  private NodeActionResult single(String nodeId, Command command, String done) {
    return apply(List.of(nodeId), command, s -> done).get(0);
  }

  /** Applies one command to each node, in one write; a node later in the list sees the earlier ones' changes. */
  private List<NodeActionResult> apply(List<String> nodeIds, Command command,
      java.util.function.Function<GateStatus, String> done) {
    Instant now = clock.instant();
    GateWrite write = new GateWrite();
    Map<String, GateStatus> next = new LinkedHashMap<>();
    List<NodeActionResult> results = new ArrayList<>();
    for (String id : nodeIds) {
      GateStatus s = next.getOrDefault(id, statuses.get(id));
      if (s == null) {
        results.add(notFound(id));
        continue;
      }
      GateMachine.Decision d = command.decide(s, node(id), now);
      if (d.refusal() != null) {
        results.add(refused(id, d.refusal(), s));
        continue;
      }
      GateStatus after = record(s, d.step(), now, write);
      next.put(id, after);
      results.add(result(id, NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED, done.apply(s), after));
    }
    return commit(write, next, results, now);
  }

  private List<NodeActionResult> commit(GateWrite write, Map<String, GateStatus> next, List<NodeActionResult> results, Instant now) {
    if (!write.isEmpty()) {
      store.write(write);
    }
    applied(next, now);
    return results.stream().map(this::withView).toList();
  }

  /** Returns {@code r} with the node's current status and allocatability. */
  NodeActionResult withView(NodeActionResult r) {
    GateStatus s = statuses.get(r.getNodeId());
    return s == null ? r : r.toBuilder().setStatus(view(s, node(r.getNodeId()), clock.instant())).build();
  }

  NodeSummary node(String id) {
    return registry.summary(id).orElse(null);
  }

  static NodeActionResult notFound(String id) {
    return NodeResults.notFound(id);
  }

  static NodeActionResult refused(String id, String message, GateStatus s) {
    return NodeResults.of(id, NodeActionOutcome.NODE_ACTION_OUTCOME_REFUSED, message, s);
  }

  static NodeActionResult result(String id, NodeActionOutcome outcome, String message, GateStatus s) {
    return NodeResults.of(id, outcome, message, s);
  }

  /** Stops the evaluation passes. Does not close the store. */
  @Override
  public void close() {
    ticker.shutdownNow();
    try {
      ticker.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
