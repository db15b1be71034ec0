package io.gpuwarden.collector.gate;

import static org.assertj.core.api.Assumptions.assumeThat;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.CompleteRequest;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gate decisions per second and their latency, over gRPC on loopback into a collector with a
 * SQLite store on local disk (every lock and complete is a committed, fsynced transaction before
 * the answer). Not a test: runs only with {@code -Dgpuwarden.bench=true}; figures go to
 * BENCHMARKS.md.
 *
 * <pre>
 * mvn -o -pl collector test -Dtest=GateBenchmarkTest -Dgpuwarden.bench=true
 * </pre>
 */
class GateBenchmarkTest {
  private static final String TOKEN = "benchmark-token-0123456789";
  private static final int NODES = 2000;

  @TempDir
  Path dir;

  @Test
  void gateDecisions() throws Exception {
    assumeThat(Boolean.getBoolean("gpuwarden.bench")).as("benchmark: run with -Dgpuwarden.bench=true").isTrue();
    Files.writeString(dir.resolve("tokens"), "bench " + TOKEN + "\n");
    CollectorServer server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0)
        .withDataDir(dir.resolve("data")).withAdminTokens(dir.resolve("tokens"))
        .withGate(GateConfig.defaults().withBudget(100, 0)), Clock.systemUTC()).start();
    ManagedChannel channel = NettyChannelBuilder.forTarget("127.0.0.1:" + server.port()).usePlaintext().build();
    try {
      for (int i = 0; i < NODES; i++) {
        var s = server.registry().hello(AgentHello.newBuilder().setNodeId(id(i)).setPool("bench").setBootId("b")
            .setStreamId("s" + i).build());
        server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1)
            .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY)).build());
      }
      while (server.gate().statuses(x -> true).size() < NODES) {
        Thread.sleep(50);
      }
      Metadata m = new Metadata();
      m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
      GateServiceGrpc.GateServiceBlockingStub admin = GateServiceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
      // warm-up: JIT and connections
      measure("warm-up allocatable query", 2000, 1, i -> admin.getGate(GetGateRequest.newBuilder().addNodeIds(id(i)).build()));
      measure("warm-up lock + forced release", 300, 1, i -> {
        admin.lock(LockRequest.newBuilder().addNodeIds(id(NODES - 1 - i)).setReason("warm-up").build());
        admin.release(io.gpuwarden.proto.v1.ReleaseRequest.newBuilder().setNodeId(id(NODES - 1 - i)).setForce(true)
            .setReason("warm-up").build());
      });

      measure("lock (1 node per call, committed)", 1000, 1,
          i -> admin.lock(LockRequest.newBuilder().addNodeIds(id(i)).setReason("bench").build()));
      measure("complete (1 node per call, committed)", 1000, 1,
          i -> admin.complete(CompleteRequest.newBuilder().addNodeIds(id(i)).build()));
      measure("allocatable query (GetGate, 1 node)", 20000, 1,
          i -> admin.getGate(GetGateRequest.newBuilder().addNodeIds(id(i % NODES)).build()));
      measure("lock, 4 concurrent clients", 1000, 4,
          i -> admin.lock(LockRequest.newBuilder().addNodeIds(id(1000 + i)).setReason("bench").build()));
      measure("allocatable query, 4 concurrent clients", 20000, 4,
          i -> admin.getGate(GetGateRequest.newBuilder().addNodeIds(id(i % NODES)).build()));
    } finally {
      channel.shutdownNow();
      server.close();
    }
  }

  private static String id(int i) {
    return String.format(Locale.ROOT, "b%05d", i);
  }

  private static void measure(String what, int calls, int threads, IntConsumer call) throws Exception {
    long[] nanos = new long[calls];
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    long start = System.nanoTime();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int first = t;
      futures.add(pool.submit(() -> {
        for (int i = first; i < calls; i += threads) {
          long s = System.nanoTime();
          call.accept(i);
          nanos[i] = System.nanoTime() - s;
        }
      }));
    }
    for (Future<?> f : futures) {
      f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    Arrays.sort(nanos);
    System.out.printf(Locale.ROOT, "bench %-42s %6d calls %5.0f/s  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms%n", what, calls,
        calls / seconds, nanos[calls / 2] / 1e6, nanos[(int) (calls * 0.99)] / 1e6, nanos[calls - 1] / 1e6);
  }
}
