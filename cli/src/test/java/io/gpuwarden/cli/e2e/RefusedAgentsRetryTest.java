package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.IngestLimits;
import io.gpuwarden.collector.fleet.NodeRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A collector at its {@code --max-agents} refuses further agents with RESOURCE_EXHAUSTED; a refused
 * agent keeps its batches, retries with backoff, and when a place frees delivers every batch once.
 */
class RefusedAgentsRetryTest {
  @TempDir
  Path tmp;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  @Test
  void anAgentBeyondTheLimitIsRefusedRetriesAndDeliversEverythingOnceAPlaceFrees() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer collector = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0)
        .withStaleAfter(Duration.ofSeconds(5)).withIngest(IngestLimits.defaults().withMaxAgents(1)),
        Clock.systemUTC()).start();
    toClose.add(collector);
    String target = "127.0.0.1:" + collector.port();

    Agent first = Agent.start(E2eAgents.config(tmp, "e2e-first", "e2e", target).build());
    toClose.add(first);
    await().atMost(Duration.ofSeconds(10)).until(() -> first.uplink().connected());

    Agent second = Agent.start(E2eAgents.config(tmp, "e2e-second", "e2e", target).build());
    toClose.add(second);
    await().atMost(Duration.ofSeconds(10)).until(() -> second.uplink().reconnects() >= 3);
    assertThat(second.uplink().connected()).isFalse();
    assertThat(second.uplink().lastError()).startsWith("RESOURCE_EXHAUSTED: ").contains("at most 1 agent stream");
    assertThat(second.uplink().acknowledgedSequence()).isZero();
    long producedWhileRefused = second.uplink().lastSequence();
    assertThat(producedWhileRefused).isPositive();
    assertThat(collector.ingest().refusedStreams()).isGreaterThanOrEqualTo(3);

    first.close(); // its place frees
    await().atMost(Duration.ofSeconds(10)).until(() -> second.uplink().connected()
        && second.uplink().acknowledgedSequence() >= producedWhileRefused + 5);
    second.close();
    long last = second.uplink().lastSequence();
    assertThat(second.uplink().acknowledgedSequence()).isEqualTo(last);
    NodeRegistry.IngestStats stats = collector.registry().stats("e2e-second").orElseThrow();
    assertThat(stats.batches()).isEqualTo(last);
    assertThat(stats.duplicateBatches()).isZero();
    assertThat(stats.sequenceGaps()).isZero();
  }
}
