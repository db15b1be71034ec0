package io.gpuwarden.bench;

import io.gpuwarden.collector.fleet.NodeSummary;
import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.collector.gate.GateMachine;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockInfo;
import io.gpuwarden.proto.v1.Verdict;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The gate's evaluation of one node under verification: the state machine alone, no store. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class GateMachineBenchmark {
  private static final Instant T0 = Instant.parse("2026-12-03T10:00:00Z");
  private final GateMachine machine = new GateMachine(GateConfig.defaults(), Duration.ofSeconds(10));
  private GateStatus verifying;
  private NodeSummary soaking;
  private Instant during;

  /** A node locked, completed and HEALTHY, half-way through its soak. */
  @Setup
  public void setup() {
    NodeSummary n = new NodeSummary("n1", "p", "boot-1", T0, Verdict.newBuilder().setState(HealthState.HEALTH_STATE_HEALTHY)
        .setSince(ProtoTime.of(T0)).build());
    GateStatus serving = GateStatus.newBuilder().setNodeId("n1").setPool("p").setState(GateState.GATE_STATE_SERVING)
        .setSince(ProtoTime.of(T0)).build();
    LockInfo lock = LockInfo.newBuilder().setActor("ops").setReason("bmc").setBootIdAtLock("boot-1").build();
    GateStatus locked = machine.lock(serving, lock, "bmc", n, T0).next();
    verifying = machine.verify(machine.complete(locked, "", "ops", n, T0).step().next(), n, T0.plusSeconds(1)).next();
    during = T0.plus(Duration.ofMinutes(2));
    soaking = new NodeSummary("n1", "p", "boot-1", during.minusSeconds(1), n.getVerdict());
  }

  /** One look at the node: still soaking, nothing to record. */
  @Benchmark
  public Object verifyOneNode() {
    return machine.verify(verifying, soaking, during);
  }

  /** What the node waits for, as a reader of the gate sees it. */
  @Benchmark
  public Object pendingOfOneNode() {
    return machine.pending(verifying, soaking, during);
  }
}
