package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built jars run as real processes. An integration test (failsafe, after {@code package}):
 * the collector jar it runs is this module's own package output.
 *
 * <p>Covers several agents at once, SIGTERM, and the demo.
 */
class ProcessLifecycleIT {
  private static final Pattern STOPPED = Pattern.compile("last sequence (\\d+), acknowledged (\\d+)");

  @TempDir
  Path tmp;

  private final List<Process> processes = new ArrayList<>();
  private CollectorServer collector;

  @AfterEach
  void cleanUp() {
    processes.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
    if (collector != null) {
      collector.close();
    }
  }

  private Process start(List<String> command, Path log, String stateFile) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    if (stateFile != null) {
      pb.environment().put("GPUWARDEN_FAKE_NVML_STATE", stateFile);
    }
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  @Test
  void threeAgentProcessesStreamConcurrentlyAndStopCleanlyOnSigterm() throws Exception {
    collector = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0), Clock.systemUTC()).start();
    List<Process> agents = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Path state = tmp.resolve("host" + i + ".state");
      FakeNvml.healthyH100().toBuilder().gpu(0, g -> g.temperatureCelsius(40)).build().writeAtomically(state);
      Path bootId = tmp.resolve("host" + i + ".boot_id");
      Files.writeString(bootId, "boot-" + i + "\n");
      agents.add(start(Processes.javaJar(Processes.agentJar(),
          "--collector", "127.0.0.1:" + collector.port(), "--node-id", "proc-" + i, "--pool", "procs",
          "--interval", "200ms", "--nvml-lib", FakeNvml.library().toString(), "--boot-id-file", bootId.toString(),
          "--state-dir", tmp.resolve("state" + i).toString(), "--kmsg", "none", "--sysfs-root", tmp.resolve("no-sysfs").toString()),
          tmp.resolve("agent" + i + ".log"), state.toString()));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> collector.registry().list(n -> true, true).stream()
        .filter(n -> n.getGpuSamplesCount() == 8).count() == 3);
    assertThat(collector.registry().list(n -> true, true)).extracting(Node::getNodeId)
        .containsExactly("proc-1", "proc-2", "proc-3");

    for (Process p : agents) {
      p.destroy(); // SIGTERM, as systemd sends
    }
    for (int i = 0; i < agents.size(); i++) {
      Process p = agents.get(i);
      assertThat(p.waitFor(15, TimeUnit.SECONDS)).as("agent %d exits within 15 s of SIGTERM", i + 1).isTrue();
      assertThat(p.exitValue()).isEqualTo(143);
      String log = Files.readString(tmp.resolve("agent" + (i + 1) + ".log"));
      Matcher m = STOPPED.matcher(log);
      assertThat(m.find()).as("agent log:%n%s", log).isTrue();
      long last = Long.parseLong(m.group(1));
      assertThat(Long.parseLong(m.group(2))).as("everything sampled was acknowledged").isEqualTo(last);
      Node node = collector.registry().get("proc-" + (i + 1), false).orElseThrow();
      assertThat(node.getLastSequence()).isEqualTo(last);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> collector.registry().list(Node::getConnected, false).isEmpty());
  }

  @Test
  void agentProcessWithA32MiBHeapSurvivesA200000LineKernelLogFloodAndCatchesTheXidAtItsEnd() throws Exception {
    collector = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0), Clock.systemUTC()).start();
    Path state = tmp.resolve("flood.state");
    FakeNvml.healthyH100().writeAtomically(state);
    Path bootId = tmp.resolve("flood.boot_id");
    Files.writeString(bootId, "boot-flood\n");
    Path kmsg = tmp.resolve("flood.kmsg");
    Files.writeString(kmsg, "");
    Path gcLog = tmp.resolve("gc.log");
    Process p = start(Processes.javaJar(List.of("-Xmx32m", "-Xlog:gc:file=" + gcLog), Processes.agentJar(),
        "--collector", "127.0.0.1:" + collector.port(), "--node-id", "flood", "--interval", "200ms",
        "--nvml-lib", FakeNvml.library().toString(), "--boot-id-file", bootId.toString(),
        "--state-dir", tmp.resolve("state").toString(), "--kmsg", kmsg.toString(), "--sysfs-root", tmp.resolve("no-sysfs").toString()),
        tmp.resolve("agent.log"), state.toString());
    await().atMost(Duration.ofSeconds(30)).until(() -> collector.registry().get("flood", false)
        .map(n -> n.getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY).orElse(false));

    long start = System.nanoTime();
    AgentToCollectorTest.floodKmsg(kmsg, 1, 200_000);
    Files.writeString(kmsg, "2,200001,20000000" + AgentToCollectorTest.FATAL_XID, java.nio.file.StandardOpenOption.APPEND);
    await().atMost(Duration.ofSeconds(30)).until(() -> collector.registry().get("flood", false)
        .map(n -> n.getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY).orElse(false));
    long caughtMs = (System.nanoTime() - start) / 1_000_000;
    await().atMost(Duration.ofSeconds(15)).until(() -> collector.registry().get("flood", false)
        .map(n -> n.getLogLinesReceived() + n.getLogLinesDropped() == 200_001).orElse(false));
    assertThat(p.isAlive()).as(Files.readString(tmp.resolve("agent.log"))).isTrue();
    Node n = collector.registry().get("flood", false).orElseThrow();
    assertThat(n.getVerdict().getReasonsList()).anySatisfy(r -> assertThat(r.getMessage()).contains("Xid 79"));

    long peakKib = 0;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([KMG])->\\d+[KMG]\\(").matcher(Files.readString(gcLog));
    while (m.find()) {
      long v = Long.parseLong(m.group(1)) * (m.group(2).equals("K") ? 1 : m.group(2).equals("M") ? 1024 : 1024 * 1024);
      peakKib = Math.max(peakKib, v);
    }
    System.out.printf("flood (agent process, -Xmx32m): Xid caught after %d ms; forwarded %d, dropped %d; peak heap before GC %d KiB%n",
        caughtMs, n.getLogLinesReceived(), n.getLogLinesDropped(), peakKib);
    p.destroy();
    assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void agentWithoutNvmlLibraryKeepsRunningAndReportsThePathTried() throws Exception {
    collector = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0), Clock.systemUTC()).start();
    Path missing = tmp.resolve("no-such-dir/libnvidia-ml.so.1");
    Path bootId = tmp.resolve("boot_id");
    Files.writeString(bootId, "boot-x\n");
    Process p = start(Processes.javaJar(Processes.agentJar(), "--collector", "127.0.0.1:" + collector.port(), "--node-id",
        "no-nvml", "--interval", "200ms", "--nvml-lib", missing.toString(), "--boot-id-file", bootId.toString(),
        "--state-dir", tmp.resolve("state").toString(), "--kmsg", "none", "--sysfs-root", tmp.resolve("no-sysfs").toString()),
        tmp.resolve("agent.log"), null);
    await().atMost(Duration.ofSeconds(30)).until(() -> collector.registry().get("no-nvml", false)
        .map(n -> n.getVerdict().getReasonsList().stream().anyMatch(r -> r.getMessage().contains(missing.toString())))
        .orElse(false));
    Node node = collector.registry().get("no-nvml", false).orElseThrow();
    assertThat(node.getVerdict().getState()).isEqualTo(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNKNOWN);
    assertThat(p.isAlive()).isTrue();
    assertThat(Files.readString(tmp.resolve("agent.log"))).contains("could not open NVML: NVML unusable").contains(missing.toString());
    p.destroy();
    assertThat(p.waitFor(15, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void collectorProcessServesAndStopsCleanlyOnSigterm() throws Exception {
    int port = Processes.freePort();
    Path log = tmp.resolve("collector.log");
    // Its own data dir and no metrics port: never the default /var/lib/gpuwarden/collector or 0.0.0.0:9400.
    Process p = start(Processes.javaJar(Processes.collectorJar(), "collector", "--listen", "127.0.0.1:" + port,
        "--data-dir", tmp.resolve("collector-data").toString(), "--metrics-listen", "none"), log, null);
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("listening on port " + port));

    Path nodesOut = tmp.resolve("nodes.out");
    Process nodes = start(Processes.javaJar(Processes.collectorJar(), "nodes", "--collector", "127.0.0.1:" + port), nodesOut, null);
    assertThat(nodes.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(nodes.exitValue()).isZero();
    assertThat(Files.readString(nodesOut)).contains("no nodes");

    p.destroy();
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(143);
  }

  @Test
  void loadgenStoppedWithSigtermLeavesNoScratchFilesBehind() throws Exception {
    Path scratch = Files.createDirectories(tmp.resolve("loadgen-tmp"));
    Path log = tmp.resolve("loadgen.log");
    // Nothing listens on the port: the agents retry until SIGTERM; the scratch dir exists by then.
    Process p = start(Processes.javaJar(List.of("-Xmx256m", "-Djava.io.tmpdir=" + scratch), Processes.collectorJar(),
        "loadgen", "--collector", "127.0.0.1:" + Processes.freePort(), "--nodes", "2", "--rate", "2", "--duration", "60s"),
        log, tmp.resolve("loadgen-nvml.state").toString());
    await().atMost(Duration.ofSeconds(40)).until(() -> Files.readString(log).contains("agents connecting to"));
    try (var entries = Files.list(scratch)) {
      assertThat(entries.map(e -> e.getFileName().toString())).as("its scratch dir, while it runs")
          .anyMatch(n -> n.startsWith("gpuwarden-loadgen"));
    }
    p.destroy();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    try (var entries = Files.list(scratch)) {
      assertThat(entries.map(e -> e.getFileName().toString())).as("left behind after SIGTERM")
          .noneMatch(n -> n.startsWith("gpuwarden-loadgen"));
    }
  }

  @Test
  void demoRunsForItsDurationExitsZeroAndLeavesNoProcessBehind() throws Exception {
    Path out = tmp.resolve("demo.out");
    Process demo = start(Processes.javaJar(Processes.collectorJar(), "demo", "--nodes", "2", "--duration", "8s",
        "--refresh", "2s"), out, null);
    List<ProcessHandle> agents = new ArrayList<>();
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      agents.clear();
      agents.addAll(demo.descendants().toList());
      return agents.size() >= 2;
    });
    assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("demo exits by itself").isTrue();
    String output = Files.readString(out);
    assertThat(demo.exitValue()).as("demo output:%n%s", output).isZero();
    assertThat(output).contains("2 nodes, 16 GPUs").contains("demo-node-01").contains("demo-node-02").contains("HEALTHY");
    for (ProcessHandle agent : agents) {
      assertThat(agent.isAlive()).as("agent process %d outlived the demo", agent.pid()).isFalse();
    }
  }

  @Test
  void demoRunsTheRollingMaintenanceReleasingHealthyNodesAndQuarantiningTheFaultyOne() throws Exception {
    Path out = tmp.resolve("demo-maintenance.out");
    Process demo = start(Processes.javaJar(Processes.collectorJar(), "demo", "--nodes", "8", "--duration", "75s"), out, null);
    List<ProcessHandle> agents = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      agents.clear();
      agents.addAll(demo.descendants().toList());
      return agents.size() >= 8;
    });
    assertThat(demo.waitFor(150, TimeUnit.SECONDS)).as("demo exits by itself").isTrue();
    String output = Files.readString(out);
    assertThat(demo.exitValue()).as("demo output:%n%s", output).isZero();
    assertThat(output)
        .contains("demo-node-01   APPLIED  locked", "demo-node-02   APPLIED  locked")
        .contains("demo-node-03   REFUSED  pool demo: 2 of 8 nodes out of service, budget allows 2 (25% of 8 nodes)")
        .contains("rebooted demo-node-01 (new boot id", "rebooted demo-node-02 (new boot id")
        .contains("demo-node-01 VERIFYING -> SERVING (verification passed")
        .contains("demo-node-02 VERIFYING -> QUARANTINED (verification failed: verdict UNHEALTHY: GPU 3")
        .contains("finished", "demo-node-01 SERVING, demo-node-02 QUARANTINED");
    String finalGate = output.substring(output.lastIndexOf("--- release gate ---"));
    assertThat(finalGate).containsPattern("demo-node-01 +SERVING +yes").containsPattern("demo-node-02 +QUARANTINED +no")
        .containsPattern("demo-node-08 +SERVING +yes");
    for (ProcessHandle agent : agents) {
      assertThat(agent.isAlive()).as("agent process %d outlived the demo", agent.pid()).isFalse();
    }
  }

  @Test
  void demoWhoseDurationIsTooShortForTheMaintenanceSaysSoAndExitsOne() throws Exception {
    Path out = tmp.resolve("demo-short.out");
    Process demo = start(Processes.javaJar(Processes.collectorJar(), "demo", "--nodes", "4", "--duration", "8s"), out, null);
    assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("demo exits by itself").isTrue();
    String output = Files.readString(out);
    assertThat(demo.exitValue()).as("demo output:%n%s", output).isEqualTo(1);
    assertThat(output).contains("before the rolling maintenance").contains("use --duration 75s or longer");
  }

  @Test
  void demoInterruptedBySigtermStopsItsAgents() throws Exception {
    Path out = tmp.resolve("demo.out");
    Process demo = start(Processes.javaJar(Processes.collectorJar(), "demo", "--nodes", "2"), out, null);
    List<ProcessHandle> agents = new ArrayList<>();
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      agents.clear();
      agents.addAll(demo.descendants().toList());
      return agents.size() >= 2 && Files.readString(out).contains("2 nodes, 16 GPUs");
    });
    demo.destroy(); // what Ctrl-C (SIGINT) and SIGTERM both do: run the shutdown hook
    assertThat(demo.waitFor(30, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(15)).until(() -> agents.stream().noneMatch(ProcessHandle::isAlive));
  }
}
