package io.gpuwarden.bench;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.collector.verdict.PoolExpectation;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Applying one batch in the collector's registry — samples kept, the verdict judged (agent checks,
 * the pool's expected inventory, the peer comparison of its 8 GPUs among the pool's), the change
 * published — in a pool of 1,000 or 10,000 nodes under load. The cost must not grow with the pool.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class IngestApplyBenchmark {
  /** Nodes in the pool. */
  @Param({"1000", "10000"})
  public int nodes;

  private NodeRegistry registry;
  private final List<NodeRegistry.Session> sessions = new ArrayList<>();
  private final List<TelemetryBatch> templates = new ArrayList<>();
  /** Round r's batch (sequence r + 4), shared by every node: built in the setup, not in the measured call. */
  private final List<TelemetryBatch> rounds = new ArrayList<>();
  private final AtomicLong published = new AtomicLong();
  private int round;
  private int next;

  /** A pool of {@code nodes} 8-GPU hosts that each sent a few batches under load. */
  @Setup
  public void setup() {
    registry = new NodeRegistry(Clock.systemUTC(), new StalenessVerdict(Duration.ofSeconds(10),
        List.of(PoolExpectation.parse("bench:gpus=8,ib-ports=8,ib-rate=400"))));
    registry.feed().subscribe(c -> {
      if (c instanceof Change.BatchApplied) {
        published.incrementAndGet();
      }
    });
    for (TelemetryBatch b : RealBatches.tenCycles()) {
      TelemetryBatch.Builder busy = b.toBuilder();
      for (int i = 0; i < busy.getGpuSamplesCount(); i++) {
        GpuSample g = busy.getGpuSamples(i);
        busy.setGpuSamples(i, g.toBuilder().setUtilizationGpuPercent(95).setPowerMilliwatts(650_000 + i * 1000)
            .setSmClockMhz(1980).setTemperatureCelsius(65 + i % 3));
      }
      templates.add(busy.build());
    }
    for (int n = 0; n < nodes; n++) {
      String id = String.format("bench-%05d", n);
      NodeRegistry.Session s = registry.hello(AgentHello.newBuilder().setNodeId(id).setPool("bench").setBootId("b")
          .setStreamId("s-" + id).build());
      sessions.add(s);
      for (int k = 1; k <= 3; k++) {
        registry.apply(s, withGpus(templates.get(k), id).toBuilder().setSequence(k).build());
      }
    }
    for (int r = 0; r < 20_000; r++) {
      rounds.add(templates.get(r % templates.size()).toBuilder().setSequence(r + 4).build());
    }
    registry.refreshPeers(java.time.Instant.now());
  }

  private static TelemetryBatch withGpus(TelemetryBatch b, String node) {
    TelemetryBatch.Builder out = b.toBuilder();
    for (int i = 0; i < out.getGpuSamplesCount(); i++) {
      out.setGpuSamples(i, out.getGpuSamples(i).toBuilder().setGpuUuid("GPU-" + node + "-" + i));
    }
    return out.build();
  }

  /** One batch of the next node in turn. */
  @Benchmark
  public long applyOneBatch() {
    int n = next++;
    if (next == nodes) {
      next = 0;
      round++;
    }
    return registry.apply(sessions.get(n), rounds.get(round % rounds.size()));
  }
}
