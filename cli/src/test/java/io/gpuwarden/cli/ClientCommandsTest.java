package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.cli.GpuwardenMain;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.ListNodesResponse;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The client commands against a real collector over loopback. */
class ClientCommandsTest {
  private CollectorServer server;
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void start() throws Exception {
    server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0), Clock.systemUTC()).start();
    NodeRegistry.Session s = server.registry().hello(AgentHello.newBuilder()
        .setNodeId("gpu-007").setPool("h100-a").setStreamId("s").setBootId("b")
        .setInventory(Inventory.newBuilder()
            .addGpus(GpuInfo.newBuilder().setIndex(0).setUuid("GPU-a").setPciBusId("00000000:18:00.0").setName("H100"))
            .addGpus(GpuInfo.newBuilder().setIndex(1).setUuid("GPU-b").setPciBusId("00000000:2A:00.0").setName("H100")))
        .build());
    server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1)
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid("GPU-a").setIndex(0).setTemperatureCelsius(41).setPowerMilliwatts(300_000))
        .addGpuSamples(GpuSample.newBuilder().setGpuUuid("GPU-b").setIndex(1).setTemperatureCelsius(67).setPowerMilliwatts(450_400))
        .build());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int run(String... args) {
    CommandLine cl = GpuwardenMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  private String address() {
    return "127.0.0.1:" + server.port();
  }

  @Test
  void nodesPrintsAnAlignedTableWithTheHottestGpuAndTotalPower() {
    assertThat(run("nodes", "--collector", address())).isZero();
    String[] lines = out.toString().split("\n");
    assertThat(lines[0]).startsWith("NODE").contains("POOL", "GPUS", "LAST SEEN", "HOTTEST °C", "VERDICT");
    assertThat(lines[1]).startsWith("gpu-007").contains("h100-a").contains(" 67 ").contains(" 750 ").contains("HEALTHY").endsWith("-");
    assertThat(lines[1].indexOf("h100-a")).isEqualTo(lines[0].indexOf("POOL"));
  }

  @Test
  void nodesShowsTheMostUrgentActionAndTheFirstReasonOfAnUnhealthyNode() {
    NodeRegistry.Session s = server.registry().hello(AgentHello.newBuilder().setNodeId("gpu-008").setPool("h100-a")
        .setStreamId("s8").setBootId("b").build());
    server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1)
        .addCheckResults(io.gpuwarden.proto.v1.CheckResult.newBuilder().setCheck("xid")
            .setState(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNHEALTHY)
            .addReasons(io.gpuwarden.proto.v1.Reason.newBuilder().setCheck("xid")
                .setState(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNHEALTHY)
                .setMessage("Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2")
                .setAction(io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE)))
        .addCheckResults(io.gpuwarden.proto.v1.CheckResult.newBuilder().setCheck("persistence-mode")
            .setState(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_DEGRADED)
            .addReasons(io.gpuwarden.proto.v1.Reason.newBuilder().setCheck("persistence-mode")
                .setState(io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_DEGRADED).setMessage("persistence off")
                .setAction(io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION)))
        .build());
    assertThat(run("nodes", "--collector", address())).isZero();
    assertThat(out.toString().lines().filter(l -> l.startsWith("gpu-008")).findFirst().orElseThrow())
        .contains("UNHEALTHY").contains("reboot-node").contains("(+1 more)");
    out.getBuffer().setLength(0);
    assertThat(run("node", "gpu-008", "--collector", address())).isZero();
    assertThat(out.toString()).contains("UNHEALTHY [xid] Xid 79 (GPU_HAS_FALLEN_OFF_THE_BUS) on GPU 2 -> reboot-node")
        .contains("DEGRADED [persistence-mode] persistence off -> check-configuration");
  }

  @Test
  void nodesAndNodeShowTheGateState() {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
        .until(() -> server.gate().status("gpu-007").isPresent());
    assertThat(run("nodes", "--collector", address())).isZero();
    String[] lines = out.toString().split("\n");
    assertThat(lines[0]).contains("GATE");
    assertThat(lines[1]).contains("SERVING");
    out.getBuffer().setLength(0);
    assertThat(run("node", "gpu-007", "--collector", address())).isZero();
    assertThat(out.toString()).contains("gate      SERVING, allocatable");
  }

  @Test
  void nodesJsonIsTheListNodesResponse() throws Exception {
    assertThat(run("nodes", "--json", "--collector", address())).isZero();
    ListNodesResponse.Builder parsed = ListNodesResponse.newBuilder();
    JsonFormat.parser().merge(out.toString(), parsed);
    assertThat(parsed.getNodes(0).getNodeId()).isEqualTo("gpu-007");
    assertThat(parsed.getNodes(0).getGpuSamples(1).getTemperatureCelsius()).isEqualTo(67);
  }

  @Test
  void nodeShowsEveryGpu() {
    assertThat(run("node", "gpu-007", "--collector", address())).isZero();
    assertThat(out.toString()).contains("verdict   HEALTHY").contains("GPU-a").contains("00000000:2A:00.0").contains("67");
  }

  @Test
  void unknownNodeExitsThreeAndSaysSo() {
    assertThat(run("node", "ghost", "--collector", address())).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(err.toString()).contains("NOT_FOUND").contains("'ghost'");
  }

  @Test
  void unreachableCollectorExitsSixNamingTheAddress() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThat(run("nodes", "--collector", "127.0.0.1:" + port, "--timeout", "2s")).isEqualTo(ExitCodes.UNREACHABLE).isEqualTo(6);
    assertThat(err.toString()).startsWith("gpuwarden nodes: cannot reach the collector at 127.0.0.1:" + port + ": UNAVAILABLE: ")
        .contains("Connection refused");
  }

  @Test
  void invalidOptionExitsTwo() {
    assertThat(run("nodes", "--timeout", "soon")).isEqualTo(ExitCodes.USAGE);
    assertThat(err.toString()).contains("'soon'");
  }
}
