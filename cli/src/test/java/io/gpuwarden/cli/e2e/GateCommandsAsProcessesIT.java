package io.gpuwarden.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.TestCollector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gate commands as the launcher runs them, the collector jar as a process: the exit codes a shell sees, and the
 * admin token from the environment ({@code $GPUWARDEN_ADMIN_TOKEN}, {@code $GPUWARDEN_ADMIN_TOKEN_FILE}).
 */
class GateCommandsAsProcessesIT {
  @TempDir
  Path tmp;

  private TestCollector collector;

  @BeforeEach
  void start() {
    collector = TestCollector.start(tmp.resolve("collector"));
  }

  @AfterEach
  void stop() {
    collector.close();
  }

  private record Ran(int code, String output) {}

  private Ran run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(Processes.javaJar(Processes.collectorJar(), args)).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("out.log").toFile());
    pb.environment().remove("GPUWARDEN_ADMIN_TOKEN");
    pb.environment().remove("GPUWARDEN_ADMIN_TOKEN_FILE");
    pb.environment().remove("GPUWARDEN_COLLECTOR");
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("gpuwarden " + String.join(" ", args) + " did not exit within 60 s");
    }
    return new Ran(p.exitValue(), Files.readString(tmp.resolve("out.log"), StandardCharsets.UTF_8));
  }

  @Test
  void theTokenFromTheEnvironmentWorksAndTheShellSeesEachExitCode() throws Exception {
    Map<String, String> env = Map.of("GPUWARDEN_ADMIN_TOKEN", TestCollector.ALICE_TOKEN,
        "GPUWARDEN_COLLECTOR", collector.address());

    Ran held = run(env, "hold", "c-1", "--reason", "RMA 42");
    assertThat(held.code()).as(held.output()).isEqualTo(ExitCodes.OK);
    assertThat(collector.gate().status("c-1").orElseThrow().getHeld()).isTrue();

    assertThat(run(env, "hold", "c-1", "--reason", "again").code()).isEqualTo(ExitCodes.REFUSED);
    assertThat(run(env, "lock", "ghost", "--reason", "r").code()).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(run(Map.of("GPUWARDEN_COLLECTOR", collector.address()), "unhold", "c-1").code()).isEqualTo(ExitCodes.AUTH);
    assertThat(run(env, "unhold", "c-1", "--collector", "127.0.0.1:1").code()).isEqualTo(ExitCodes.UNREACHABLE);
  }

  @Test
  void theCollectorsAdminTokensNamedByTheEnvironmentWorks() throws Exception {
    Map<String, String> env = Map.of("GPUWARDEN_ADMIN_TOKEN_FILE", collector.adminTokens().toString());

    Ran run = run(env, "quarantine", "c-2", "--reason", "Xid 79", "--collector", collector.address(), "--admin-name", "alice");

    assertThat(run.code()).as(run.output()).isEqualTo(ExitCodes.OK);
    assertThat(collector.journal().history("c-2", java.time.Instant.EPOCH, 10)).anySatisfy(e ->
        assertThat(e.getTransition().getActor()).isEqualTo("alice"));
    assertThat(List.of(run.output().split("\n"))).anySatisfy(l -> assertThat(l).startsWith("c-2  APPLIED"));
  }
}
