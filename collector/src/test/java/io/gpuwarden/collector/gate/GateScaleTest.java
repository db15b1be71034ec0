package io.gpuwarden.collector.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.NodeActionOutcome;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 nodes locked and completed together, each turning HEALTHY at its own moment: every node is
 * released within 1 s of the end of its own soak; none waits for another. Real time, the gate's own
 * evaluation thread, a real SQLite store.
 */
class GateScaleTest {
  private static final int NODES = 1000;
  private static final Duration SOAK = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  @Test
  void thousandNodesAreEachReleasedWithinOneSecondOfTheirOwnSoak() throws Exception {
    Clock clock = Clock.systemUTC();
    Duration staleAfter = Duration.ofSeconds(3);
    NodeRegistry registry = new NodeRegistry(clock, new StalenessVerdict(staleAfter));
    SqliteGateStore store = SqliteGateStore.open(dir);
    ReleaseGate gate = new ReleaseGate(store, registry, GateConfig.defaults().withVerification(SOAK, Duration.ofMinutes(5))
        .withBudget(100, 0), staleAfter, clock);
    Map<String, Instant> released = new ConcurrentHashMap<>();
    AtomicBoolean completed = new AtomicBoolean();
    gate.addListener((status, was) -> {
      if (completed.get() && status.getState() == GateState.GATE_STATE_SERVING) {
        released.putIfAbsent(status.getNodeId(), clock.instant());
      }
    });
    List<NodeRegistry.Session> sessions = new ArrayList<>();
    AtomicLong seq = new AtomicLong();
    for (int i = 0; i < NODES; i++) {
      sessions.add(registry.hello(AgentHello.newBuilder().setNodeId(String.format("n%04d", i)).setPool("big").setBootId("b1")
          .setStreamId("s" + i).build()));
    }
    Instant[] healthyFrom = new Instant[NODES];
    Runnable reportAll = () -> {
      Instant now = clock.instant();
      for (int i = 0; i < NODES; i++) {
        boolean healthy = healthyFrom[i] != null && !now.isBefore(healthyFrom[i]);
        CheckResult.Builder c = CheckResult.newBuilder().setCheck("c")
            .setState(healthy ? HealthState.HEALTH_STATE_HEALTHY : HealthState.HEALTH_STATE_DEGRADED);
        if (!healthy) {
          c.addReasons(Reason.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_DEGRADED).setMessage("rebooting"));
        }
        registry.apply(sessions.get(i), TelemetryBatch.newBuilder().setSequence(seq.incrementAndGet()).addCheckResults(c).build());
      }
    };
    reportAll.run();
    gate.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> gate.statuses(s -> true).size() == NODES);
    List<String> ids = gate.statuses(s -> true).stream().map(s -> s.getNodeId()).toList();
    assertThat(gate.lock(ids, "rolling firmware", false, false, "ops"))
        .extracting(r -> r.getOutcome()).containsOnly(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    assertThat(gate.complete(ids, "firmware flashed", "ops"))
        .extracting(r -> r.getOutcome()).containsOnly(NodeActionOutcome.NODE_ACTION_OUTCOME_APPLIED);
    completed.set(true);

    // Each node turns HEALTHY at its own time over 4 s; the feeder reports every node every 200 ms.
    Instant start = clock.instant();
    for (int i = 0; i < NODES; i++) {
      healthyFrom[i] = start.plusMillis(200 + (i * 37L) % 4000);
    }
    AtomicBoolean feeding = new AtomicBoolean(true);
    Map<String, Instant> firstHealthy = new ConcurrentHashMap<>();
    registry.feed().subscribe(change -> {
      if (change instanceof io.gpuwarden.collector.feed.Change.VerdictChanged v
          && v.node().getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY) {
        firstHealthy.putIfAbsent(v.nodeId(), io.gpuwarden.common.ProtoTime.instant(v.node().getVerdict().getSince()));
      }
    });
    Thread feeder = new Thread(() -> {
      while (feeding.get()) {
        reportAll.run();
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    feeder.start();
    try {
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> released.size() == NODES);
    } finally {
      feeding.set(false);
      feeder.join();
      gate.close();
      store.close();
    }
    long[] lagMs = new long[NODES];
    for (int i = 0; i < NODES; i++) {
      String id = String.format("n%04d", i);
      Instant soakEnd = firstHealthy.get(id).plus(SOAK);
      lagMs[i] = Duration.between(soakEnd, released.get(id)).toMillis();
    }
    Arrays.sort(lagMs);
    System.out.printf("gate scale: %d nodes released; lag after own soak end: min %d ms, median %d ms, p99 %d ms, max %d ms%n",
        NODES, lagMs[0], lagMs[NODES / 2], lagMs[(int) (NODES * 0.99)], lagMs[NODES - 1]);
    assertThat(lagMs[0]).as("never before its own soak ends").isGreaterThanOrEqualTo(0);
    assertThat(lagMs[NODES - 1]).as("each within 1 s of its own soak").isLessThan(1000);
  }
}
