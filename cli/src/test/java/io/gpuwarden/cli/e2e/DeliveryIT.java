package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.GetNodeRequest;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * At-least-once delivery applied exactly once: an agent streams while its collector process is
 * killed with SIGKILL (or stopped for a minute) and a new one starts on the same data dir. Every
 * event the agent sent is in the node's durable history exactly once, and the new collector ends at
 * the agent's last sequence.
 */
class DeliveryIT {
  @TempDir
  Path tmp;

  private Agent agent;
  private Process collector;
  private ManagedChannel channel;
  private FakeNvmlState nvml;

  @AfterEach
  void cleanUp() {
    if (agent != null) {
      agent.close();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (collector != null) {
      collector.destroyForcibly();
    }
  }

  private Process startCollector(int port) throws Exception {
    return new ProcessBuilder(Processes.javaJar(Processes.collectorJar(), "collector", "--listen", "127.0.0.1:" + port,
        "--data-dir", tmp.resolve("data").toString(), "--metrics-listen", "none"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("collector.log").toFile())).start();
  }

  private int injected;

  /**
   * Application-fault Xids (8, 13, 31, 32: WARNING events, so every one lands in the history), each
   * on a distinct (GPU, Xid) pair so the agent's flood filter forwards every one.
   */
  private void injectXids(int count, long pauseMillis) throws InterruptedException {
    int[] xids = {8, 13, 31, 32};
    for (int i = 0; i < count; i++, injected++) {
      nvml = nvml.toBuilder().xid(nvml.nextEventId(), injected % 8, xids[injected / 8]).build();
      FakeNvml.write(nvml);
      Thread.sleep(pauseMillis);
    }
  }

  private void run(Duration outage, boolean kill) throws Exception {
    nvml = FakeNvml.healthyH100();
    FakeNvml.write(nvml);
    int port = Processes.freePort();
    collector = startCollector(port);
    channel = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext().build();
    agent = Agent.start(E2eAgents.config(tmp, "d1", "d", "127.0.0.1:" + port).sampleInterval(Duration.ofMillis(200)).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> agent.uplink().acknowledgedSequence() > 3);

    injectXids(10, 150);
    if (kill) {
      collector.destroyForcibly(); // SIGKILL mid-stream: batches applied but not yet stored die with it
    } else {
      collector.destroy();
    }
    assertThat(collector.waitFor(10, TimeUnit.SECONDS)).isTrue();
    injectXids(5, 100); // sampled while no collector runs
    Thread.sleep(outage.toMillis());
    collector = startCollector(port);
    injectXids(10, 150);
    // Caught up (batches keep coming, so at most the newest may be in flight at any one poll);
    // close() then waits for the acknowledgement of the rest.
    await().atMost(Duration.ofSeconds(60)).until(() -> agent.uplink().connected()
        && agent.uplink().lastSequence() - agent.uplink().acknowledgedSequence() <= 1);
    agent.close();
    long last = agent.uplink().lastSequence();
    assertThat(agent.uplink().acknowledgedSequence()).isEqualTo(last);
    agent = null;

    var node = FleetServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getNode(GetNodeRequest.newBuilder().setNodeId("d1").build()).getNode();
    assertThat(node.getLastSequence()).isEqualTo(last);
    List<HistoryEntry> history = GateServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getHistory(GetHistoryRequest.newBuilder().setNodeId("d1").setLimit(100_000).build()).getEntriesList();
    List<HistoryEntry> xids = history.stream().filter(e -> e.hasEvent() && e.getEvent().hasXid()).toList();
    Map<String, Long> perId = xids.stream().collect(Collectors.groupingBy(e -> e.getEvent().getId(), Collectors.counting()));
    assertThat(perId.values()).as("each event stored once").allMatch(c -> c == 1);
    assertThat(perId).as("every event the agent sent is stored").hasSize(25);
    assertThat(xids.stream().map(e -> e.getEvent().getId()).collect(Collectors.toSet()))
        .hasSize(xids.stream().map(Function.identity()).toList().size());
  }

  @Test
  void killNineMidStreamThenANewCollectorOnTheSameDataDirAppliesEveryBatchOnce() throws Exception {
    run(Duration.ofSeconds(1), true);
  }

  @Test
  void aSixtySecondOutageLosesNothing() throws Exception {
    run(Duration.ofSeconds(60), false);
  }
}
