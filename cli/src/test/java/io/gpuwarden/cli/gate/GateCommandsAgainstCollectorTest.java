package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.cli.GpuwardenMain;
import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GateState;
import io.gpuwarden.proto.v1.GetGateResponse;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The gate commands against a real collector: exit codes, refusals with their reasons, audit, JSON. */
class GateCommandsAgainstCollectorTest {
  private static final String TOKEN = "a1b2c3d4e5f60718293a4b5c";

  @TempDir
  Path dir;

  private CollectorServer server;
  private StringWriter out;
  private StringWriter err;

  @BeforeEach
  void start() throws Exception {
    Files.writeString(dir.resolve("tokens"), "alice " + TOKEN + "\n");
    Files.writeString(dir.resolve("token"), TOKEN + "\n");
    server = CollectorServer.create(CollectorConfig.defaults().withListen("127.0.0.1", 0).withDataDir(dir.resolve("data"))
        .withAdminTokens(dir.resolve("tokens")).withGate(GateConfig.defaults().withBudget(0, 1)), Clock.systemUTC()).start();
    for (int i = 1; i <= 4; i++) {
      var s = server.registry().hello(AgentHello.newBuilder().setNodeId("c-" + i).setPool("cli").setBootId("b").setStreamId("s" + i)
          .build());
      server.registry().apply(s, TelemetryBatch.newBuilder().setSequence(1)
          .addCheckResults(CheckResult.newBuilder().setCheck("c").setState(HealthState.HEALTH_STATE_HEALTHY)).build());
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> server.gate().statuses(x -> true).size() == 4);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private int run(String... args) {
    out = new StringWriter();
    err = new StringWriter();
    CommandLine cl = GpuwardenMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--collector";
    all[args.length + 1] = "127.0.0.1:" + server.port();
    return cl.execute(all);
  }

  private String token() {
    return dir.resolve("token").toString();
  }

  @Test
  void lockWithinBudgetThenARefusedLockExitsFourWithTheNumbers() {
    assertThat(run("lock", "c-1", "--reason", "swap PSU", "--admin-token-file", token())).as(err.toString()).isZero();
    assertThat(out.toString()).contains("c-1");
    assertThat(server.gate().status("c-1").orElseThrow().getState()).isEqualTo(GateState.GATE_STATE_LOCKED);

    assertThat(run("lock", "c-2", "--reason", "swap PSU", "--admin-token-file", token())).isEqualTo(4);
    assertThat(out.toString() + err.toString()).contains("1 of 4 nodes out of service").contains("REFUSED");

    assertThat(run("lock", "c-3", "--reason", "swap PSU", "--wait", "--admin-token-file", token())).isZero();
    assertThat(out.toString()).contains("QUEUED");
  }

  @Test
  void withoutATokenTheCollectorRefusesAndNothingChanges() {
    assertThat(run("hold", "c-1", "--reason", "x")).isEqualTo(1);
    assertThat(err.toString()).contains("UNAUTHENTICATED");
    assertThat(server.gate().status("c-1").orElseThrow().getHeld()).isFalse();
  }

  @Test
  void historyShowsWhoDidWhatAndGateJsonParses() throws Exception {
    run("lock", "c-4", "--reason", "reseat NIC", "--admin-token-file", token());
    run("complete", "c-4", "--admin-token-file", token());
    assertThat(run("history", "c-4")).isZero();
    assertThat(out.toString()).contains("SERVING -> LOCKED by alice: reseat NIC").contains("LOCKED -> VERIFYING by alice");

    assertThat(run("gate", "--json")).isZero();
    GetGateResponse.Builder parsed = GetGateResponse.newBuilder();
    JsonFormat.parser().merge(out.toString(), parsed);
    assertThat(parsed.getStatusesList()).extracting(s -> s.getNodeId()).containsExactly("c-1", "c-2", "c-3", "c-4");

    assertThat(run("history", "nope")).isEqualTo(3);
  }

  @Test
  void noFlyWindowsAndBudgets() {
    assertThat(run("nfz", "add", "--pool", "cli", "--start", "+0s", "--end", "+1h", "--reason", "acme training",
        "--admin-token-file", token())).as(err.toString()).isZero();
    assertThat(run("lock", "c-2", "--reason", "x", "--admin-token-file", token())).isEqualTo(4);
    assertThat(out.toString() + err.toString()).contains("no-fly window").contains("acme training");
    assertThat(run("nfz", "list")).isZero();
    assertThat(out.toString()).contains("acme training").contains("cli");

    assertThat(run("budget", "set", "--pool", "cli", "--max-nodes", "2", "--reason", "more hands today",
        "--admin-token-file", token())).as(err.toString()).isZero();
    assertThat(run("budget")).isZero();
    assertThat(out.toString()).contains("cli").contains("2");
  }
}
