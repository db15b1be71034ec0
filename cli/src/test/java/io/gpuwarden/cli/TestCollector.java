package io.gpuwarden.cli;

import static org.awaitility.Awaitility.await;

import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * A real collector on a free loopback port for the client command tests: four HEALTHY nodes {@code c-1} ... {@code c-4}
 * in pool {@code cli}, a budget of one node out at a time, and an {@code admin.tokens} file in the collector's format
 * with the tokens of {@code admin} and {@code alice}.
 */
public final class TestCollector implements AutoCloseable {
  /** The pool every node is in. */
  public static final String POOL = "cli";
  /** The token of {@code admin}. */
  public static final String ADMIN_TOKEN = "a1b2c3d4e5f60718293a4b5c";
  /** The token of {@code alice}. */
  public static final String ALICE_TOKEN = "f0e1d2c3b4a5968778695a4b";

  private final Path dir;
  private final CollectorServer server;

  private TestCollector(Path dir, CollectorServer server) {
    this.dir = dir;
    this.server = server;
  }

  /** Starts a collector keeping its files under {@code dir}, and waits until the gate knows the four nodes. */
  public static TestCollector start(Path dir) {
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("admin.tokens"), "# gpuwarden admin tokens: NAME TOKEN per line\n"
          + "admin " + ADMIN_TOKEN + "\nalice " + ALICE_TOKEN + "\n");
      CollectorServer server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0)
          .withDataDir(dir.resolve("data")).withAdminTokens(dir.resolve("admin.tokens"))
          .withGate(GateConfig.defaults().withBudget(0, 1)), Clock.systemUTC()).start();
      for (int i = 1; i <= 4; i++) {
        var s = server.registry().hello(AgentHello.newBuilder().setNodeId("c-" + i).setPool(POOL).setBootId("b")
            .setStreamId("s" + i).build());
        server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1)
            .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY)).build());
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> server.gate().statuses(x -> true).size() == 4);
      return new TestCollector(dir, server);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Returns {@code 127.0.0.1:PORT}. */
  public String address() {
    return "127.0.0.1:" + server.port();
  }

  /** Returns the collector's {@code admin.tokens} ({@code admin} and {@code alice}). */
  public Path adminTokens() {
    return dir.resolve("admin.tokens");
  }

  /** Returns the gate, to set up and check states without the CLI. */
  public ReleaseGate gate() {
    return server.gate();
  }

  /** The collector's journal: the nodes' history. */
  public io.gpuwarden.collector.ingest.IngestJournal journal() {
    return server.journal();
  }

  @Override
  public void close() {
    server.close();
  }
}
