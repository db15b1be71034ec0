package io.gpuwarden.cli.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.CommandRun;
import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.IngestLimits;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpuwarden loadgen} against a real collector on loopback: every exit code its help lists,
 * what the collector received (one node per agent, its own GPUs, every batch once), and what the
 * load generator says.
 */
class LoadGenCommandTest {
  @TempDir
  Path tmp;

  private CollectorServer collector;

  @AfterEach
  void stop() {
    if (collector != null) {
      collector.close();
    }
  }

  private static CommandRun run(String... args) {
    return CommandRun.of(args);
  }

  private String start(IngestLimits limits) throws Exception {
    collector = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0).withDataDir(tmp.resolve("data"))
        .withStaleAfter(Duration.ofSeconds(10)).withIngest(limits), Clock.systemUTC()).start();
    return "127.0.0.1:" + collector.port();
  }

  @Test
  void everyBatchIsAcknowledgedOnceAndTheRunSaysNothingWasLost() throws Exception {
    String target = start(IngestLimits.defaults());
    CommandRun r = run("loadgen", "--collector", target, "--nodes", "12", "--rate", "120", "--burst", "5", "--duration", "3s",
        "--drain", "20s", "--report", "1s", "--xid-every", "7", "--node-prefix", "lg-", "--first-node", "100");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.OK);
    assertThat(r.out()).contains("12 agents connecting to " + target).contains("lost 0: every batch made was acknowledged")
        .containsPattern("made \\d[\\d,]* batches").contains("acknowledgement latency: p50 ");
    assertThat(r.out().lines().filter(l -> l.contains(" sent ") && l.contains(" acked ")).count()).isGreaterThanOrEqualTo(3);

    List<Node> nodes = collector.registry().list(n -> true, false);
    assertThat(nodes).hasSize(12);
    Set<String> uuids = new HashSet<>();
    long batches = 0;
    for (int i = 100; i < 112; i++) {
      String id = "lg-" + i;
      Node n = collector.registry().get(id, false).orElseThrow();
      assertThat(n.getPool()).isEqualTo("load");
      assertThat(n.getInventory().getGpusCount()).isEqualTo(8);
      assertThat(n.getInventory().getInfinibandPortsCount()).isEqualTo(8);
      n.getInventory().getGpusList().forEach(g -> uuids.add(g.getUuid()));
      NodeRegistry.IngestStats stats = collector.registry().stats(id).orElseThrow();
      assertThat(stats.duplicateBatches()).isZero();
      assertThat(stats.sequenceGaps()).isZero();
      batches += stats.batches();
      assertThat(n.getVerdict().getState()).as(id + " " + n.getVerdict()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    }
    assertThat(uuids).as("every node has GPUs of its own").hasSize(12 * 8);
    String made = r.out().lines().filter(l -> l.startsWith("made ")).findFirst().orElseThrow();
    assertThat(made).startsWith("made " + String.format(java.util.Locale.ROOT, "%,d", batches) + " batches")
        .contains("acknowledged " + String.format(java.util.Locale.ROOT, "%,d", batches) + ";");
  }

  @Test
  void agentsBeyondTheCollectorsMaximumAreRefusedAndWhatTheyMadeIsReportedLost() throws Exception {
    String target = start(IngestLimits.defaults().withMaxAgents(2));
    CommandRun r = run("loadgen", "--collector", target, "--nodes", "4", "--rate", "40", "--duration", "2s", "--drain", "2s",
        "--report", "1s", "--max-backoff", "200ms");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.CALL_FAILED);
    assertThat(r.out()).containsPattern("LOST \\d[\\d,]* batches: made but not acknowledged within --drain 2s")
        .containsPattern("streams refused [1-9]");
    assertThat(collector.ingest().refusedStreams()).isPositive();
    assertThat(collector.registry().size()).isEqualTo(2);
  }

  @Test
  void aFaultIsTimedToItsVerdictAndGateStatus() throws Exception {
    String target = start(IngestLimits.defaults());
    CommandRun r = run("loadgen", "--collector", target, "--nodes", "4", "--rate", "40", "--duration", "13s", "--drain", "10s",
        "--report", "5s", "--fault-every", "2s");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(ExitCodes.OK);
    String line = r.out().lines().filter(l -> l.startsWith("fault to verdict")).findFirst().orElseThrow();
    // faults from 10 s in, every 2 s: 2 nodes before the 13 s end
    assertThat(line).startsWith("fault to verdict (2 nodes faulted): UNHEALTHY at WatchVerdicts 2, p50 ")
        .contains("not allocatable at WatchGate 2, p50 ").containsPattern("previewed \\d+ \\(failed 0, answered in p50 ");
    for (String id : List.of("load-0", "load-1")) {
      assertThat(collector.registry().get(id, false).orElseThrow().getVerdict().getState())
          .isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    }
    assertThat(collector.registry().get("load-2", false).orElseThrow().getVerdict().getState())
        .isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void badCommandLinesAreUsageErrors() throws Exception {
    assertThat(run("loadgen", "--rate", "10").code()).isEqualTo(ExitCodes.USAGE); // --nodes is required
    CommandRun zero = run("loadgen", "--nodes", "0", "--rate", "10");
    assertThat(zero.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(zero.err()).contains("--nodes must be at least 1, got 0");
    assertThat(run("loadgen", "--nodes", "1", "--rate", "-1").err()).contains("--rate must be a positive number");
    assertThat(run("loadgen", "--nodes", "1", "--rate", "1", "--shape", "huge").code()).isEqualTo(ExitCodes.USAGE);
    assertThat(run("loadgen", "--nodes", "1", "--rate", "1", "--collector", "nowhere").err())
        .contains("--collector must be HOST:PORT, got 'nowhere'");
    CommandRun files = run("loadgen", "--nodes", "100000000", "--rate", "1");
    assertThat(files.code()).isEqualTo(ExitCodes.USAGE);
    assertThat(files.err()).contains("--nodes 100000000 needs 100000000 connections, and this process may open at most")
        .contains("distinct --first-node");
  }

  @Test
  void helpListsTheExitCodes() {
    CommandRun help = run("loadgen", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("Exit codes:").contains("0   every batch made was acknowledged")
        .contains("--shape=SHAPE").contains("default: mixed").doesNotContain("picocli WARN");
    assertThat(help.err()).doesNotContain("picocli WARN");
  }
}
