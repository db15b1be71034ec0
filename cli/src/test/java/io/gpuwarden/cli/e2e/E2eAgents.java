package io.gpuwarden.cli.e2e;

import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * The configuration of an in-process agent in end-to-end tests: the fake NVML, a boot id file and
 * a state dir of its own under {@code tmp}, no InfiniBand and no kernel log (the test machine's must
 * not leak in), 100 ms sampling and fast reconnects. Tests change what they need on the builder.
 * Also the in-process collector they report to.
 */
final class E2eAgents {
  static final String BOOT_ID = "11111111-2222-4333-8444-555555555555";

  private E2eAgents() {}

  static AgentConfig.Builder config(Path tmp, String nodeId, String pool, String collectorTarget) {
    Path bootId = tmp.resolve(nodeId + ".boot_id");
    try {
      Files.writeString(bootId, BOOT_ID + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return AgentConfig.builder()
        .nodeId(nodeId)
        .pool(pool)
        .collectorTarget(collectorTarget)
        .sampleInterval(Duration.ofMillis(100))
        // Each batch at once, so the tests' deadlines measure the agent, not the grouping (SendIntervalTest's subject).
        .sendInterval(Duration.ZERO)
        .nvmlLibrary(FakeNvml.library())
        .bootIdFile(bootId)
        .stateDir(tmp.resolve(nodeId + "-state"))
        .sysfsRoot(tmp.resolve(nodeId + "-no-sysfs"))
        .logs(LogConfig.none())
        .nvmlTimeout(Duration.ofSeconds(1))
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
  }

  /** Starts an in-process collector on loopback {@code port} (0 picks one) that calls a node stale after 5 s. */
  static CollectorServer startCollector(int port) throws IOException {
    return startCollector(port, Duration.ofSeconds(5));
  }

  /** Starts an in-process collector on loopback {@code port} (0 picks one) that calls a node stale after {@code staleAfter}. */
  static CollectorServer startCollector(int port, Duration staleAfter) throws IOException {
    return CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", port)
        .withStaleAfter(staleAfter), Clock.systemUTC()).start();
  }
}
