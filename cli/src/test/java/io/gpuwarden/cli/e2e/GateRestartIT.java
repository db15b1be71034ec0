package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.proto.v1.AddNoFlyWindowRequest;
import io.gpuwarden.proto.v1.CompleteRequest;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GateStatus;
import io.gpuwarden.proto.v1.GetBudgetsRequest;
import io.gpuwarden.proto.v1.GetGateRequest;
import io.gpuwarden.proto.v1.GetHistoryRequest;
import io.gpuwarden.proto.v1.HistoryEntry;
import io.gpuwarden.proto.v1.HoldRequest;
import io.gpuwarden.proto.v1.ListNoFlyWindowsRequest;
import io.gpuwarden.proto.v1.LockRequest;
import io.gpuwarden.proto.v1.NoFlyWindow;
import io.gpuwarden.proto.v1.QuarantineRequest;
import io.gpuwarden.proto.v1.SetBudgetRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector process is killed with SIGKILL while its nodes are in every gate state; a new
 * process on the same data dir has the same states, history, budgets and windows, fails closed
 * until agents report again, and resumes verification where it was.
 */
class GateRestartIT {
  private static final String TOKEN = "0123456789abcdef0123456789";
  private static final Duration SOAK = Duration.ofSeconds(8);

  @TempDir
  Path tmp;

  private final List<Agent> agents = new ArrayList<>();
  private Process collector;
  private ManagedChannel channel;

  @AfterEach
  void cleanUp() {
    agents.forEach(Agent::close);
    if (channel != null) {
      channel.shutdownNow();
    }
    if (collector != null) {
      collector.destroyForcibly();
    }
  }

  private Process startCollector(int port, int metricsPort, Path log) throws Exception {
    Process p = new ProcessBuilder(Processes.javaJar(Processes.collectorJar(), "collector", "--listen", "127.0.0.1:" + port,
        "--data-dir", tmp.resolve("data").toString(), "--admin-tokens", tmp.resolve("tokens").toString(),
        "--soak", SOAK.toSeconds() + "s", "--verify-timeout", "5m", "--budget-percent", "100", "--stale-after", "3s",
        "--metrics-listen", "127.0.0.1:" + metricsPort))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    return p;
  }

  private GateServiceGrpc.GateServiceBlockingStub admin() {
    Metadata m = new Metadata();
    m.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
    return GateServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m))
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private Map<String, GateStatus> statuses() {
    Map<String, GateStatus> out = new HashMap<>();
    for (GateStatus s : admin().getGate(GetGateRequest.getDefaultInstance()).getStatusesList()) {
      GateStatus.Builder b = s.toBuilder().clearAllocatable().clearNotAllocatableReasons();
      b.getVerificationBuilder().clearPending();
      out.put(s.getNodeId(), b.build());
    }
    return out;
  }

  private List<HistoryEntry> history(String node, Instant until) {
    return admin().getHistory(GetHistoryRequest.newBuilder().setNodeId(node).setLimit(10_000).build()).getEntriesList().stream()
        .filter(e -> !Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos()).isAfter(until)).toList();
  }

  @Test
  void killNineWithNodesInEveryStateThenRestartOnTheSameDataDir() throws Exception {
    Files.writeString(tmp.resolve("tokens"), "ops " + TOKEN + "\n");
    FakeNvml.write(FakeNvml.healthyH100());
    int port = Processes.freePort();
    int metricsPort = Processes.freePort();
    Path log = tmp.resolve("collector.log");
    collector = startCollector(port, metricsPort, log);
    channel = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext().build();
    for (int i = 1; i <= 5; i++) {
      agents.add(Agent.start(E2eAgents.config(tmp, "n" + i, "r", "127.0.0.1:" + port)
          .sampleInterval(Duration.ofMillis(200)).build()));
    }
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> admin().getGate(GetGateRequest.getDefaultInstance())
        .getStatusesList().stream().filter(GateStatus::getAllocatable).count() == 5);

    admin().lock(LockRequest.newBuilder().addNodeIds("n1").addNodeIds("n2").addNodeIds("n3").setReason("maintenance").build());
    admin().complete(CompleteRequest.newBuilder().addNodeIds("n2").build());
    admin().quarantine(QuarantineRequest.newBuilder().setNodeId("n3").setReason("bad cable").build());
    admin().hold(HoldRequest.newBuilder().setNodeId("n4").setReason("fan noise").build());
    Instant now = Instant.now();
    admin().addNoFlyWindow(AddNoFlyWindowRequest.newBuilder().setPool("r").setReason("training run")
        .setStart(Timestamp.newBuilder().setSeconds(now.plusSeconds(3600).getEpochSecond()))
        .setEnd(Timestamp.newBuilder().setSeconds(now.plusSeconds(7200).getEpochSecond())).build());
    admin().setBudget(SetBudgetRequest.newBuilder().setPool("r").setMaxNodesOut(4).setReason("test").build());
    // n2 soaks for a while before the kill: that part of its soak must not be lost
    Thread.sleep(3000);
    Map<String, GateStatus> before = statuses();
    assertThat(before.get("n1").getState()).isEqualTo(GateState.GATE_STATE_LOCKED);
    assertThat(before.get("n2").getState()).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(before.get("n2").getVerification().hasHealthySince()).isTrue();
    assertThat(before.get("n3").getState()).isEqualTo(GateState.GATE_STATE_QUARANTINED);
    assertThat(before.get("n4").getHeld()).isTrue();
    assertThat(before.get("n5").getState()).isEqualTo(GateState.GATE_STATE_SERVING);
    Map<String, List<HistoryEntry>> historyBefore = new HashMap<>();
    for (String id : before.keySet()) {
      historyBefore.put(id, history(id, Instant.now()));
    }
    List<NoFlyWindow> windowsBefore = admin().listNoFlyWindows(ListNoFlyWindowsRequest.getDefaultInstance()).getWindowsList();
    var budgetBefore = admin().getBudgets(GetBudgetsRequest.newBuilder().setPool("r").build()).getBudgets(0);

    Instant killed = Instant.now();
    collector.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
    assertThat(collector.waitFor(10, TimeUnit.SECONDS)).isTrue();
    collector = startCollector(port, metricsPort, log);

    await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
        .until(() -> admin().getGate(GetGateRequest.getDefaultInstance()).getStatusesCount() == 5);
    Map<String, GateStatus> after = statuses();
    for (String id : before.keySet()) {
      if (!id.equals("n2")) {
        assertThat(after.get(id)).as(id).isEqualTo(before.get(id));
      }
      assertThat(history(id, killed)).as("history of " + id).isEqualTo(historyBefore.get(id));
    }
    assertThat(after.get("n2").getState()).isEqualTo(GateState.GATE_STATE_VERIFYING);
    assertThat(after.get("n2").getVerification().getDeadline()).isEqualTo(before.get("n2").getVerification().getDeadline());
    assertThat(admin().listNoFlyWindows(ListNoFlyWindowsRequest.getDefaultInstance()).getWindowsList()).isEqualTo(windowsBefore);
    var budgetAfter = admin().getBudgets(GetBudgetsRequest.newBuilder().setPool("r").build()).getBudgets(0);
    assertThat(budgetAfter.getMaxNodesOut()).isEqualTo(budgetBefore.getMaxNodesOut());
    assertThat(budgetAfter.getNodesOut()).isEqualTo(budgetBefore.getNodesOut());

    // n2's verification resumes and releases it once the soak (counted from before the kill) is over
    await().atMost(Duration.ofSeconds(30)).until(() -> statuses().get("n2").getState() == GateState.GATE_STATE_SERVING);
    HistoryEntry release = history("n2", Instant.now()).stream().filter(HistoryEntry::hasTransition)
        .reduce((a, b) -> b).orElseThrow();
    assertThat(release.getTransition().getToState()).isEqualTo(GateState.GATE_STATE_SERVING);
    Instant healthySince = Instant.ofEpochSecond(before.get("n2").getVerification().getHealthySince().getSeconds(),
        before.get("n2").getVerification().getHealthySince().getNanos());
    assertThat(Instant.ofEpochSecond(release.getTime().getSeconds())).isAfterOrEqualTo(healthySince.plus(SOAK).minusSeconds(1));
    // and every node that agents report on again is allocatable again only when it should be
    await().atMost(Duration.ofSeconds(15)).until(() -> admin().getGate(GetGateRequest.getDefaultInstance()).getStatusesList()
        .stream().filter(GateStatus::getAllocatable).map(GateStatus::getNodeId).sorted().toList().equals(List.of("n2", "n5")));

    String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).contains("gpuwarden_gate_nodes{pool=\"r\",state=\"quarantined\"} 1")
        .contains("gpuwarden_gate_circuit_breaker_open{pool=\"r\"} 0")
        .contains("gpuwarden_gate_allocatable_nodes{pool=\"r\"} 2");
  }
}
