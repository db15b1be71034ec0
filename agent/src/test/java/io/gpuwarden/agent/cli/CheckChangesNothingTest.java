package io.gpuwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.AgentMain;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.logs.LogConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code agent check} changes nothing the running agent keeps: run against a sample kernel log (or
 * a smaller GPU inventory) it judges that input, and the state directory, and so the next check of
 * the real host, stay as they were; what the running agent recorded is still seen.
 */
class CheckChangesNothingTest {
  private static final String FALLEN_OFF = String.join("\n",
      "3,2001,6000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
      "3,2002,6000100,-;pcieport 0000:17:02.0: AER: Uncorrected (Fatal) error received: 0000:18:00.0", "");

  @TempDir
  Path dir;

  private StringWriter out;
  private StringWriter err;

  @BeforeEach
  void bootId() throws Exception {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
    FakeNvml.write(FakeNvml.healthyH100());
  }

  private Path stateDir() {
    return dir.resolve("state");
  }

  private int check(String kmsg, String... extra) {
    out = new StringWriter();
    err = new StringWriter();
    CommandLine cl = AgentMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    List<String> args = new java.util.ArrayList<>(List.of("check", "--nvml-lib", FakeNvml.library().toString(),
        "--boot-id-file", dir.resolve("boot_id").toString(), "--state-dir", stateDir().toString(), "--node-id", "n1",
        "--kmsg", kmsg, "--sysfs-root", dir.resolve("no-sysfs").toString()));
    args.addAll(List.of(extra));
    return cl.execute(args.toArray(String[]::new));
  }

  private Path sample(String text) throws Exception {
    Path kmsg = dir.resolve("sample.kmsg");
    Files.writeString(kmsg, text);
    return kmsg;
  }

  @Test
  void checkOfASampleKernelLogLeavesNoStateBehindAndTheNextCheckIsHealthy() throws Exception {
    assertThat(check(sample(FALLEN_OFF).toString())).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("Xid 79");
    assertThat(stateDir()).as("no state directory created").doesNotExist();

    assertThat(check("none")).as(out + "" + err).isZero();
    assertThat(out.toString()).contains("node n1: HEALTHY");
  }

  @Test
  void checkDoesNotTouchTheRunningAgentsStateFile() throws Exception {
    FileStateStore agentState = FileStateStore.open(stateDir());
    agentState.put("gpu-count.first-inventory.boot-1", "8");
    agentState.flush();
    Path file = stateDir().resolve(FileStateStore.FILE_NAME);
    byte[] before = Files.readAllBytes(file);
    FileTime mtime = FileTime.fromMillis(1_000_000_000_000L);
    Files.setLastModifiedTime(file, mtime);

    assertThat(check(sample(FALLEN_OFF).toString())).as(out + "" + err).isEqualTo(2);
    // A smaller inventory than the agent recorded is judged against the record, and not recorded itself.
    FakeNvml.write(FakeNvml.healthyH100().toBuilder().gpu(7, g -> g.vanished(true)).build());
    assertThat(check("none")).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("NVML counts 7 GPUs, expected 8");

    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(Files.getLastModifiedTime(file)).isEqualTo(mtime);
    try (Stream<Path> files = Files.list(stateDir())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly(FileStateStore.FILE_NAME);
    }
    FakeNvml.write(FakeNvml.healthyH100());
    assertThat(check("none")).as(out + "" + err).isZero();
  }

  @Test
  void checkStillSeesAnXidTheRunningAgentRecorded() throws Exception {
    // The agent (a writable monitor on the same state directory) judges the Xid and records it.
    AgentConfig config = AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library())
        .bootIdFile(dir.resolve("boot_id")).stateDir(stateDir()).sysfsRoot(dir.resolve("no-sysfs"))
        .logs(LogConfig.none().withKmsg(java.util.Optional.of(sample(FALLEN_OFF)))).build();
    try (HostMonitor agent = HostMonitor.open(config, Clock.systemUTC(), false, () -> {})) {
      agent.awaitLogsRead(java.time.Duration.ofSeconds(5));
      agent.cycle();
    }
    byte[] recorded = Files.readAllBytes(stateDir().resolve(FileStateStore.FILE_NAME));

    assertThat(check("none")).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("Xid 79");
    assertThat(Files.readAllBytes(stateDir().resolve(FileStateStore.FILE_NAME))).isEqualTo(recorded);
  }

  @Test
  void unreadableStateIsSaidAndTheCheckStillRuns() throws Exception {
    Files.createDirectories(stateDir().resolve(FileStateStore.FILE_NAME)); // a directory where the file should be
    assertThat(check("none")).as(out + "" + err).isZero();
    assertThat(err.toString()).contains("cannot read agent state").contains("judging without the running agent's state");
  }
}
