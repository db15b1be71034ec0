package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.uplink.SpoolConfig;
import io.gpuwarden.agent.uplink.SpoolStats;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.fleet.NodeRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's spool across a collector outage and an agent restart: batches overflow to disk, the
 * SIGTERM path leaves them there, the next agent process continues the same stream, and the
 * collector applies every batch exactly once.
 */
class SpoolAcrossRestartsTest {
  @TempDir
  Path tmp;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private CollectorServer collector(int port) throws Exception {
    CollectorServer c = E2eAgents.startCollector(port);
    toClose.add(c);
    return c;
  }

  private Agent agent(String nodeId, int port, SpoolConfig spool) throws Exception {
    Agent a = Agent.start(E2eAgents.config(tmp, nodeId, "e2e", "127.0.0.1:" + port)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
        .spool(spool)
        .build());
    toClose.add(a);
    return a;
  }

  @Test
  void batchesSpooledToDiskAcrossAnAgentRestartReachALateCollectorExactlyOnce() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    int port = Processes.freePort(); // no collector yet
    SpoolConfig spool = SpoolConfig.defaults().withMemoryBatches(5);

    Agent first = agent("e2e-spool", port, spool);
    await().atMost(Duration.ofSeconds(10)).until(() -> first.uplink().spool().stats().diskBatches() >= 15);
    String streamId = first.uplink().spool().streamId();
    first.close(); // the SIGTERM path: cannot deliver, so what is left goes to disk
    long producedByFirst = first.uplink().lastSequence();
    assertThat(first.uplink().spool().stats().diskBatches()).isEqualTo((int) producedByFirst);
    try (var files = Files.list(tmp.resolve("e2e-spool-state/spool"))) {
      assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.endsWith(".spool")).contains("stream.properties");
    }

    Agent second = agent("e2e-spool", port, spool);
    assertThat(second.uplink().spool().streamId()).isEqualTo(streamId);
    assertThat(second.uplink().spool().stats().recoveredBatches()).isEqualTo((int) producedByFirst);
    await().atMost(Duration.ofSeconds(10)).until(() -> second.uplink().lastSequence() >= producedByFirst + 10);

    CollectorServer c = collector(port);
    await().atMost(Duration.ofSeconds(15)).until(() -> second.uplink().connected()
        && second.uplink().acknowledgedSequence() >= producedByFirst + 20);
    second.close();
    long last = second.uplink().lastSequence();
    assertThat(second.uplink().acknowledgedSequence()).isEqualTo(last);

    NodeRegistry.IngestStats stats = c.registry().stats("e2e-spool").orElseThrow();
    assertThat(stats.batches()).isEqualTo(last);
    assertThat(stats.sequenceGaps()).isZero();
    assertThat(stats.duplicateBatches()).isZero();
    assertThat(stats.droppedSamplesReported()).isZero();
    assertThat(c.registry().get("e2e-spool", true).orElseThrow().getLastSequence()).isEqualTo(last);
  }

  @Test
  void aFullDiskSpoolDropsTheOldestSamplesAndTheCollectorLearnsHowMany() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    int port = Processes.freePort(); // no collector yet
    long cap = 16 * 1024;
    SpoolConfig spool = SpoolConfig.defaults().withMemoryBatches(2).withSegmentBytes(4096).withDiskCapBytes(cap);

    Agent first = agent("e2e-cap", port, spool);
    await().atMost(Duration.ofSeconds(15)).until(() -> first.uplink().spool().stats().droppedSamples() > 0);
    first.close();
    SpoolStats spooled = first.uplink().spool().stats();
    assertThat(first.uplink().spool().sizeBytes()).isLessThanOrEqualTo(cap);

    // The collector is back; the restarted agent keeps new batches in memory, so the only drops
    // are those of the outage (a batch stripped after it was sent would reach the collector whole).
    CollectorServer c = collector(port);
    Agent second = agent("e2e-cap", port, spool.withMemoryBatches(600));
    // Everything spooled by the first run and some new batches acknowledged; close() then waits for the rest
    // (new batches keep coming, so "acknowledged == last" need not hold at any one poll under load).
    await().atMost(Duration.ofSeconds(15)).until(() -> second.uplink().connected()
        && second.uplink().acknowledgedSequence() > first.uplink().lastSequence() + 2);
    second.close();
    assertThat(second.uplink().acknowledgedSequence()).isEqualTo(second.uplink().lastSequence());

    NodeRegistry.IngestStats stats = c.registry().stats("e2e-cap").orElseThrow();
    assertThat(spooled.droppedSamples()).isPositive();
    assertThat(stats.droppedSamplesReported()).isEqualTo(spooled.droppedSamples());
    // Batches whose samples were stripped still arrived (with their check results); whole batches
    // dropped, if any, show up as gaps, and nothing arrived twice.
    assertThat(stats.sequenceGaps()).isEqualTo(spooled.droppedBatches());
    assertThat(stats.batches() + stats.sequenceGaps()).isEqualTo(second.uplink().lastSequence());
    assertThat(stats.duplicateBatches()).isZero();
  }
}
