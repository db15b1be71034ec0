package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Node;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real agent (in this JVM, on the fake NVML library) streaming to a real collector over loopback. */
class AgentToCollectorTest {
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

  private Agent agent(String nodeId, int port) throws Exception {
    return agent(nodeId, port, LogConfig.none());
  }

  private Agent agent(String nodeId, int port, LogConfig logs) throws Exception {
    Agent a = Agent.start(E2eAgents.config(tmp, nodeId, "e2e", "127.0.0.1:" + port).logs(logs).build());
    toClose.add(a);
    return a;
  }

  private static Node node(CollectorServer c, String id) {
    return c.registry().get(id, true).orElse(Node.getDefaultInstance());
  }

  /** Writes {@code lines} warning records (sequence from {@code firstSeq}) to {@code kmsg} in one burst. */
  static void floodKmsg(Path kmsg, long firstSeq, int lines) throws java.io.IOException {
    try (java.io.Writer w = Files.newBufferedWriter(kmsg, java.nio.file.StandardOpenOption.APPEND)) {
      for (int i = 0; i < lines; i++) {
        long seq = firstSeq + i;
        w.write("4," + seq + "," + (10_000_000 + seq) + ",-;flood: driver warning repeated, line " + i + "\n");
      }
    }
  }

  static final String FATAL_XID = ",-;NVRM: Xid (PCI:0000:3a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n";

  @Test
  void aFloodOf200000KernelLinesNeitherStallsTheAgentNorHidesAFatalXidAtItsEnd() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(0);
    Path kmsg = tmp.resolve("flood.kmsg");
    Files.writeString(kmsg, "");
    int rate = 100;
    int burst = 200;
    Agent a = agent("e2e-flood", c.port(), LogConfig.none().withKmsg(java.util.Optional.of(kmsg)).withForwarding(4, rate, burst));
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-flood").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY);
    System.gc();
    long heapBefore = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    long cyclesBefore = a.samplingCycles();

    long start = System.nanoTime();
    floodKmsg(kmsg, 1, 200_000);
    Files.writeString(kmsg, "2,200001,20000000" + FATAL_XID, java.nio.file.StandardOpenOption.APPEND);

    await().atMost(Duration.ofSeconds(20)).until(() -> node(c, "e2e-flood").getVerdict().getState()
        == HealthState.HEALTH_STATE_UNHEALTHY);
    long caughtMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(node(c, "e2e-flood").getVerdict().getReasonsList())
        .anySatisfy(r -> assertThat(r.getMessage()).contains("Xid 79").contains("00000000:3A:00.0"));
    // Every qualifying line is accounted for: forwarded or counted as dropped, none silently lost.
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      Node n = node(c, "e2e-flood");
      return n.getLogLinesReceived() + n.getLogLinesDropped() == 200_001;
    });
    double seconds = (System.nanoTime() - start) / 1e9;
    Node n = node(c, "e2e-flood");
    assertThat(n.getLogLinesReceived()).isLessThanOrEqualTo((long) (burst + rate * seconds) + 1);
    assertThat(n.getLogLinesDropped()).isGreaterThan(190_000);
    assertThat(n.getRecentLogLinesList()).hasSizeLessThanOrEqualTo(100);
    // The sampler kept its 100 ms rhythm through the flood.
    assertThat(a.samplingCycles() - cyclesBefore).isGreaterThanOrEqualTo((long) (seconds * 10 * 0.5));
    assertThat(a.live()).isTrue();
    System.gc();
    long heapAfter = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    System.out.printf("flood: fatal Xid caught after %d ms; forwarded %d, dropped %d in %.1f s; heap %d -> %d KiB%n",
        caughtMs, n.getLogLinesReceived(), n.getLogLinesDropped(), seconds, heapBefore / 1024, heapAfter / 1024);
  }

  @Test
  void withTwoCollectorAddressesTheAgentFailsOverWhileTheFirstIsDown() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    int firstPort = Processes.freePort();
    CollectorServer second = collector(0);
    Agent a = Agent.start(E2eAgents.config(tmp, "e2e-fo", "e2e", "127.0.0.1:" + firstPort + ",127.0.0.1:" + second.port())
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300)).build());
    toClose.add(a);
    // the first address refuses connections: the agent reports to the second
    await().atMost(Duration.ofSeconds(15)).until(() -> node(second, "e2e-fo").getGpuSamplesCount() == 8);
    // the second goes away and the first comes up: the agent moves back to the first
    CollectorServer first = collector(firstPort);
    second.close();
    await().atMost(Duration.ofSeconds(15)).until(() -> node(first, "e2e-fo").getGpuSamplesCount() == 8);
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().connected()
        && a.uplink().lastSequence() - a.uplink().acknowledgedSequence() <= 1);
  }

  @Test
  void everyGpuReachesTheCollectorAndChangesInNvmlShowUp() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(0);
    Agent a = agent("e2e-1", c.port());

    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-1").getGpuSamplesCount() == 8);
    Node n = node(c, "e2e-1");
    assertThat(n.getPool()).isEqualTo("e2e");
    assertThat(n.getBootId()).isEqualTo("11111111-2222-4333-8444-555555555555");
    assertThat(n.getInventory().getGpusCount()).isEqualTo(8);
    assertThat(n.getInventory().getDriver().getDriverVersion()).isEqualTo("580.65.06");
    assertThat(n.getConnected()).isTrue();
    assertThat(n.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(n.getGpuSamples(0).getTemperatureCelsius()).isEqualTo(33);

    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(6, g -> g.temperatureCelsius(88)).build());
    await().atMost(Duration.ofSeconds(5)).until(() -> node(c, "e2e-1").getGpuSamples(6).getTemperatureCelsius() == 88);

    a.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> !node(c, "e2e-1").getConnected());
    assertThat(a.uplink().acknowledgedSequence()).isEqualTo(a.uplink().lastSequence());
    assertThat(node(c, "e2e-1").getLastSequence()).isEqualTo(a.uplink().lastSequence());
  }

  @Test
  void batchesSampledWhileTheCollectorRestartsAreReplayedInOrderWithoutGaps() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    int port = Processes.freePort();
    CollectorServer first = collector(port);
    Agent a = agent("e2e-2", port);
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().acknowledgedSequence() >= 3);

    first.close();
    // Once the agent saw its stream end, every ack the first collector sent has been processed.
    await().atMost(Duration.ofSeconds(5)).until(() -> !a.uplink().connected());
    long ackedByFirst = a.uplink().acknowledgedSequence();
    await().atMost(Duration.ofSeconds(5)).until(() -> a.uplink().unackedCount() >= 5);
    assertThat(a.uplink().connected()).isFalse();

    CollectorServer second = collector(port);
    await().atMost(Duration.ofSeconds(10)).until(() -> a.uplink().connected() && a.uplink().unackedCount() <= 1);
    a.close();

    NodeRegistry.IngestStats stats = second.registry().stats("e2e-2").orElseThrow();
    long last = a.uplink().lastSequence();
    assertThat(node(second, "e2e-2").getLastSequence()).isEqualTo(last);
    // The second collector never saw what the first acknowledged (it keeps no store yet), and
    // received every batch after that exactly once.
    assertThat(stats.sequenceGaps()).isEqualTo(ackedByFirst);
    assertThat(stats.batches()).isEqualTo(last - ackedByFirst);
    assertThat(stats.duplicateBatches()).isZero();
    assertThat(a.uplink().droppedBatches()).isZero();
  }

  @Test
  void xid79InjectedIntoARunningAgentMakesTheNodeUnhealthyWithRebootWithinTwoSeconds() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(0);
    agent("e2e-xid", c.port());
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-xid").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY
        && node(c, "e2e-xid").getGpuSamplesCount() == 8);

    io.gpuwarden.nvml.fake.FakeNvmlState healthy = FakeNvml.healthyH100();
    long injected = System.nanoTime();
    FakeNvml.write(healthy.toBuilder().xid(healthy.nextEventId(), 2, 79).build());
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> node(c, "e2e-xid").getVerdict().getState() == HealthState.HEALTH_STATE_UNHEALTHY);
    long ms = (System.nanoTime() - injected) / 1_000_000;
    Node n = node(c, "e2e-xid");
    assertThat(n.getVerdict().getReasonsList()).anySatisfy(r -> {
      assertThat(r.getCheck()).isEqualTo("xid");
      assertThat(r.getAction()).isEqualTo(io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE);
      assertThat(r.getMessage()).contains("Xid 79").contains(n.getInventory().getGpus(2).getUuid());
    });
    System.out.println("Xid 79 injected -> collector UNHEALTHY in " + ms + " ms");
  }

  @Test
  void agentWithAHungGpuKeepsStreamingTheOtherSeven() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(0);
    Agent a = agent("e2e-hang", c.port());
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-hang").getGpuSamplesCount() == 8);

    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(5, g -> g.hangMillis(30_000)).gpu(0, g -> g.temperatureCelsius(51)).build());
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-hang").getGpuSamples(5).getUnresponsive());
    long before = node(c, "e2e-hang").getLastSequence();
    // The other seven keep arriving with fresh values while GPU 5 hangs.
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(5, g -> g.hangMillis(30_000)).gpu(0, g -> g.temperatureCelsius(62)).build());
    await().atMost(Duration.ofSeconds(5)).until(() -> node(c, "e2e-hang").getGpuSamples(0).getTemperatureCelsius() == 62);
    // and batches keep coming: several more cycles complete while the hang lasts.
    await().atMost(Duration.ofSeconds(5)).until(() -> node(c, "e2e-hang").getLastSequence() > before + 3);
    Node n = node(c, "e2e-hang");
    assertThat(n.getGpuSamplesList()).filteredOn(s -> s.getIndex() != 5)
        .allSatisfy(s -> assertThat(s.hasTemperatureCelsius()).isTrue());
    assertThat(n.getVerdict().getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(n.getVerdict().getReasonsList()).anySatisfy(r -> assertThat(r.getMessage()).contains("GPU 5").contains("unresponsive"));
    assertThat(a.live()).isTrue();
    FakeNvml.write(FakeNvml.healthyH100()); // ends the hang
  }

  @Test
  void watchdogReportsAStuckSamplingLoopAsUnknownLivenessAndItsRecovery() throws Exception {
    FakeNvml.write(FakeNvml.healthyH100());
    CollectorServer c = collector(0);
    Agent a = agent("e2e-stall", c.port());
    await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-stall").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY);
    // The sampling cycle runs under the agent's monitor: holding it stalls the loop the way a stuck
    // call outside the per-GPU deadlines would.
    synchronized (a) {
      await().atMost(Duration.ofSeconds(10)).until(() -> node(c, "e2e-stall").getVerdict().getState() == HealthState.HEALTH_STATE_UNKNOWN);
      assertThat(a.live()).isFalse();
    }
    Node stalled = node(c, "e2e-stall");
    assertThat(stalled.getVerdict().getReasonsList()).anySatisfy(r -> {
      assertThat(r.getCheck()).isEqualTo(Agent.LIVENESS_CHECK);
      assertThat(r.getMessage()).contains("sampling loop made no progress");
    });
    await().atMost(Duration.ofSeconds(5)).until(() -> node(c, "e2e-stall").getVerdict().getState() == HealthState.HEALTH_STATE_HEALTHY);
    assertThat(a.live()).isTrue();
  }
}
