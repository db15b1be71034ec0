package io.gpuwarden.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.TestClock;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.collector.gate.SqliteGateStore;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo's rolling maintenance against a real gate and registry, on a clock the test moves, with reboots run inline. */
class RollingMaintenanceTest {
  private static final Duration STALE_AFTER = Duration.ofSeconds(5);

  private final TestClock now = TestClock.at(Instant.parse("2026-11-30T10:00:00Z"));
  private final Clock clock = now;
  private final StringWriter printed = new StringWriter();
  private final NodeRegistry registry = new NodeRegistry(clock, new StalenessVerdict(STALE_AFTER));
  private final ReleaseGate gate = new ReleaseGate(SqliteGateStore.inMemory(), registry, RollingMaintenance.gatePolicy(8),
      STALE_AFTER, clock);
  private final FakeHosts hosts = new FakeHosts();

  @AfterEach
  void close() {
    gate.close();
  }

  @Test
  void locksAQuarterWithinBudgetReleasesTheHealthyNodeAndQuarantinesTheFaultyOne() {
    hosts.start(8);
    RollingMaintenance m = maintenance(8);

    m.poll();
    assertThat(state("demo-node-01")).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(state("demo-node-02")).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(state("demo-node-03")).as("over budget").isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(printed.toString()).contains("demo-node-03   REFUSED").contains("budget allows 2 (25% of 8 nodes)");

    run(Duration.ofSeconds(2), m);
    assertThat(hosts.boots.get("demo-node-01")).isEqualTo(2);
    assertThat(state("demo-node-01")).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(state("demo-node-02")).as("rebooted one after another").isEqualTo(GateState.GATE_STATE_LOCKED);

    run(Duration.ofSeconds(4), m);
    assertThat(hosts.faulty).containsExactly("demo-node-02");
    assertThat(state("demo-node-02")).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(state("demo-node-01")).as("still soaking").isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(m.finished()).isFalse();
    assertThat(m.failure()).get().asString().contains("too short").contains("demo-node-01 VERIFYING");

    run(Duration.ofSeconds(12), m);
    assertThat(state("demo-node-01")).isEqualTo(GateState.GATE_STATE_SERVING);
    assertThat(m.finished()).isTrue();
    assertThat(m.failure()).isEmpty();
    assertThat(printed.toString()).contains("finished").contains("demo-node-01 SERVING, demo-node-02 QUARANTINED");
  }

  @Test
  void waitsForEveryNodeToBeAllocatableThenStartsAnywayAfterAWhile() {
    hosts.start(7);
    RollingMaintenance m = maintenance(8);
    run(Duration.ofSeconds(20), m);
    assertThat(m.failure()).get().asString().contains("before the rolling maintenance started");

    hosts.hello("demo-node-08");
    hosts.report("demo-node-08", HealthState.HEALTH_STATE_UNKNOWN);
    gate.tick();
    m.poll();
    assertThat(state("demo-node-01")).as("not all allocatable, but waited long enough").isEqualTo(GateState.GATE_STATE_LOCKED);
  }

  @Test
  void skipsBelowFourNodes() {
    hosts.start(3);
    RollingMaintenance m = maintenance(3);
    run(Duration.ofSeconds(30), m);
    assertThat(m.intro()).contains("skipped");
    assertThat(m.finished()).isTrue();
    assertThat(m.failure()).isEmpty();
    assertThat(state("demo-node-01")).isEqualTo(GateState.GATE_STATE_SERVING);
  }

  @Test
  void locksAQuarterOfTheFleetAndAtLeastTwoNodes() {
    assertThat(RollingMaintenance.nodesToLock(3)).isZero();
    assertThat(RollingMaintenance.nodesToLock(4)).isEqualTo(2);
    assertThat(RollingMaintenance.nodesToLock(8)).isEqualTo(2);
    assertThat(RollingMaintenance.nodesToLock(13)).isEqualTo(3);
    assertThat(RollingMaintenance.gatePolicy(8).maxPercentOut()).isEqualTo(25);
    assertThat(RollingMaintenance.gatePolicy(5).maxNodesOut()).as("25% of 5 would allow one node").isEqualTo(2);
  }

  @Test
  void planPrefersAllocatableNodesInIdOrderAndNamesTheNextAsOverBudget() {
    RollingMaintenance.Plan plan = RollingMaintenance.plan(List.of(status("n-3", true), status("n-1", false),
        status("n-2", true), status("n-4", true)), 2);
    assertThat(plan.lock()).containsExactly("n-2", "n-3");
    assertThat(plan.faulty()).isEqualTo("n-3");
    assertThat(plan.overBudget()).contains("n-4");
    assertThat(RollingMaintenance.plan(List.of(status("n-1", true), status("n-2", true)), 2).overBudget()).isEmpty();
  }

  @Test
  void judgeExpectsTheFaultyNodeQuarantinedAndTheOthersServing() {
    Map<String, GateState> ok = new LinkedHashMap<>();
    ok.put("a", GateState.GATE_STATE_SERVING);
    ok.put("b", GateState.GATE_STATE_QUARANTINED);
    assertThat(RollingMaintenance.judge(ok, "b")).isEmpty();
    ok.put("a", GateState.GATE_STATE_QUARANTINED);
    assertThat(RollingMaintenance.judge(ok, "b")).get().asString().contains("a is QUARANTINED, expected SERVING");
  }

  private RollingMaintenance maintenance(int fleet) {
    gate.tick();
    return new RollingMaintenance(gate, fleet, hosts, new InlineExecutor(), new PrintWriter(printed, true), clock);
  }

  /** Moves time in 1 s steps; each step every node reports, the gate evaluates and the scenario polls. */
  private void run(Duration d, RollingMaintenance m) {
    Instant end = now.get().plus(d);
    while (now.get().isBefore(end)) {
      now.set(now.get().plusSeconds(1));
      hosts.reportAll();
      registry.reevaluateAll();
      gate.tick();
      m.poll();
    }
  }

  private GateState state(String id) {
    return gate.status(id).orElseThrow().getState();
  }

  private static GateStatus status(String id, boolean allocatable) {
    return GateStatus.newBuilder().setNodeId(id).setState(GateState.GATE_STATE_SERVING).setAllocatable(allocatable).build();
  }

  /** Simulated hosts as the registry sees them: a reboot is a new hello with a new boot id. */
  private final class FakeHosts implements RollingMaintenance.Hosts {
    final Map<String, Integer> boots = new HashMap<>();
    final Set<String> faulty = new HashSet<>();
    private final Map<String, NodeRegistry.Session> sessions = new LinkedHashMap<>();
    private final Map<String, Long> sequences = new HashMap<>();

    void start(int n) {
      for (int i = 1; i <= n; i++) {
        String id = String.format("demo-node-%02d", i);
        hello(id);
        report(id, HealthState.HEALTH_STATE_HEALTHY);
      }
    }

    void hello(String id) {
      int boot = boots.merge(id, 1, Integer::sum);
      sessions.put(id, registry.hello(AgentHello.newBuilder().setNodeId(id).setPool("demo").setBootId("boot-" + boot)
          .setStreamId("stream-" + id + "-" + boot).build()));
    }

    void reportAll() {
      sessions.keySet().forEach(id -> report(id, faulty.contains(id) ? HealthState.HEALTH_STATE_UNHEALTHY
          : HealthState.HEALTH_STATE_HEALTHY));
    }

    void report(String id, HealthState state) {
      CheckResult.Builder c = CheckResult.newBuilder().setCheck("ecc").setState(state);
      if (state != HealthState.HEALTH_STATE_HEALTHY) {
        c.addReasons(Reason.newBuilder().setCheck("ecc").setState(state).setMessage("GPU 3 has 2 uncorrectable ECC errors")
            .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU))
            .setAction(SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
      }
      long seq = sequences.merge(id + "/" + boots.get(id), 1L, Long::sum);
      registry.apply(sessions.get(id), TelemetryBatch.newBuilder().setSequence(seq).addCheckResults(c).build());
    }

    @Override
    public String reboot(String nodeId, Runnable whileDown) {
      whileDown.run();
      hello(nodeId);
      report(nodeId, faulty.contains(nodeId) ? HealthState.HEALTH_STATE_UNHEALTHY : HealthState.HEALTH_STATE_HEALTHY);
      return "boot-" + boots.get(nodeId);
    }

    @Override
    public String injectFault(String nodeId) {
      faulty.add(nodeId);
      return "2 volatile uncorrectable ECC errors";
    }
  }

  /** Runs each task at once on the caller's thread, so a reboot is done when {@code poll} returns. */
  private static final class InlineExecutor extends AbstractExecutorService {
    private boolean shutdown;

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown = true;
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }
}
