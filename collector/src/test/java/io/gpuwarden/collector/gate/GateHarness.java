package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.MutableClock;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.NodeActionResult;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A gate over a real SQLite store and the collector's real node registry, fed with agent hellos
 * and telemetry batches as the ingest service applies them, on a clock the test moves. Evaluation
 * passes run when the test calls {@link #tick()}.
 */
final class GateHarness implements AutoCloseable {
  static final Duration STALE_AFTER = Duration.ofSeconds(10);

  final MutableClock now = MutableClock.at(Instant.parse("2026-11-30T10:00:00Z"));
  final Clock clock = now;
  final Path dir;
  final GateConfig config;
  NodeRegistry registry;
  SqliteGateStore store;
  io.gpuwarden.collector.ingest.IngestJournal journal;
  ReleaseGate gate;
  private final Map<String, NodeRegistry.Session> sessions = new HashMap<>();
  private final Map<String, Long> sequences = new HashMap<>();
  private final Map<String, Integer> boots = new HashMap<>();
  private final Map<String, String> pools = new HashMap<>();

  GateHarness(Path dir, GateConfig config) {
    this.dir = dir;
    this.config = config;
    open();
  }

  private void open() {
    registry = new NodeRegistry(clock, new StalenessVerdict(STALE_AFTER));
    store = SqliteGateStore.open(dir);
    journal = io.gpuwarden.collector.ingest.IngestJournal.start(store, registry, clock);
    gate = new ReleaseGate(store, registry, config, STALE_AFTER, clock);
  }

  /** Simulates a collector restart: gate and registry gone (agents must report again), same data dir. */
  void restart() {
    gate.close();
    journal.close();
    store.close();
    sessions.clear();
    open();
  }

  /** An agent says hello for {@code id} in {@code pool} and reports HEALTHY. */
  GateHarness node(String id, String pool) {
    pools.put(id, pool);
    boots.putIfAbsent(id, 1);
    hello(id);
    report(id, HealthState.HEALTH_STATE_HEALTHY);
    return this;
  }

  void nodes(String pool, int n) {
    for (int i = 1; i <= n; i++) {
      node(String.format("%s-%03d", pool, i), pool);
    }
  }

  private void hello(String id) {
    sessions.put(id, registry.hello(AgentHello.newBuilder().setNodeId(id).setPool(pools.get(id)).setBootId("boot-" + boots.get(id))
        .setStreamId("stream-" + id + "-" + boots.get(id)).build()));
  }

  /** The node reboots: a new boot id, a new agent stream. */
  void reboot(String id) {
    boots.merge(id, 1, Integer::sum);
    hello(id);
  }

  /** The node's agent reports one check in {@code state}. */
  void report(String id, HealthState state) {
    if (!sessions.containsKey(id)) {
      hello(id);
    }
    CheckResult.Builder c = CheckResult.newBuilder().setCheck("test-check").setState(state);
    if (state != HealthState.HEALTH_STATE_HEALTHY) {
      c.addReasons(Reason.newBuilder().setCheck("test-check").setState(state).setMessage("injected " + state.name())
          .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NODE))
          .setAction(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
    }
    long seq = sequences.merge(id + "/" + boots.get(id), 1L, Long::sum);
    registry.apply(sessions.get(id), TelemetryBatch.newBuilder().setSequence(seq).addCheckResults(c).build());
  }

  /** Every node reports {@code HEALTHY} (fresh telemetry), then time moves on by {@code d}. */
  void healthyFor(Duration d, Duration step) {
    Instant end = now.get().plus(d);
    while (now.get().isBefore(end)) {
      for (String id : pools.keySet()) {
        report(id, HealthState.HEALTH_STATE_HEALTHY);
      }
      tick();
      now.set(now.get().plus(step));
    }
    tick();
  }

  void advance(Duration d) {
    now.set(now.get().plus(d));
  }

  void tick() {
    registry.sweepDue(now.get());
    gate.tick();
  }

  /** The node's history, after the journal wrote what waits. */
  java.util.List<io.gpuwarden.proto.v1.HistoryEntry> history(String id, Instant since, int limit) {
    return journal.history(id, since, limit);
  }

  GateStatus status(String id) {
    return gate.status(id).orElseThrow();
  }

  GateState state(String id) {
    return status(id).getState();
  }

  static NodeActionResult only(List<NodeActionResult> results) {
    if (results.size() != 1) {
      throw new AssertionError("expected one result, got " + results);
    }
    return results.get(0);
  }

  @Override
  public void close() {
    gate.close();
    journal.close();
    store.close();
  }
}
