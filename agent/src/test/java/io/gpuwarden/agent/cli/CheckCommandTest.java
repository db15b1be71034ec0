package io.gpuwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.agent.AgentMain;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.nvml.ClockEventReason;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HostCheckReport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code agent check} through the fake NVML library: output, JSON and the Nagios exit codes. */
class CheckCommandTest {
  @TempDir
  Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  @BeforeEach
  void bootId() throws Exception {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
  }

  private int check(FakeNvmlState state, String... extra) {
    FakeNvml.write(state);
    CommandLine cl = AgentMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    boolean ownSources = java.util.Arrays.asList(extra).contains("--sysfs-root");
    String[] base = ownSources
        ? new String[] {"check", "--nvml-lib", FakeNvml.library().toString(), "--boot-id-file", dir.resolve("boot_id").toString(),
            "--state-dir", dir.resolve("state").toString(), "--node-id", "n1"}
        : new String[] {"check", "--nvml-lib", FakeNvml.library().toString(), "--boot-id-file", dir.resolve("boot_id").toString(),
            "--state-dir", dir.resolve("state").toString(), "--node-id", "n1", "--kmsg", "none",
            "--sysfs-root", dir.resolve("no-sysfs").toString()};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return cl.execute(args);
  }

  @Test
  void faultLoggedInTheKernelLogBeforeTheCheckIsCaught() throws Exception {
    Path kmsg = dir.resolve("kmsg");
    Files.writeString(kmsg, String.join("\n",
        "6,1,100,-;Linux version 6.8.0",
        "4,2,5000000,-;NVRM: Xid (PCI:0000:2a:00): 48, pid=4242, name=python3, An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer at partition 6, subpartition 0.",
        " SUBSYSTEM=pci",
        " DEVICE=+pci:0000:2a:00.0",
        "") + "\n");
    int code = check(FakeNvml.healthyH100(), "--kmsg", kmsg.toString(), "--sysfs-root", SysfsFixtures.fixture("healthy-8x-ndr").toString(),
        "--expected-ib-ports", "8", "--expected-ib-rate", "400");
    assertThat(code).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("Xid 48").contains("00000000:2A:00.0").contains("infiniband-port    HEALTHY");
  }

  @Test
  void missingInfinibandPortIsUnhealthy() {
    int code = check(FakeNvml.healthyH100(), "--kmsg", "none", "--sysfs-root", SysfsFixtures.fixture("port-down").toString(),
        "--expected-ib-ports", "8");
    assertThat(code).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("infiniband-port    UNHEALTHY");
  }

  @Test
  void aPortSlowerThanItsSiblingsIsDegradedWithoutConfiguration() {
    int code = check(FakeNvml.healthyH100(), "--kmsg", "none", "--sysfs-root", SysfsFixtures.fixture("degraded-rate").toString());
    assertThat(code).as(out + "" + err).isEqualTo(1);
    assertThat(out.toString()).contains("infiniband-port    DEGRADED").contains("mlx5_5 port 1 runs at 200 Gb/sec (4X HDR)")
        .contains("slower than its 7 siblings");
  }

  @Test
  void badForwardPriorityIsRefusedWithTheChoices() {
    assertThat(check(FakeNvml.healthyH100(), "--forward-log-priority", "loud")).isEqualTo(3);
    assertThat(err.toString()).contains("--forward-log-priority 'loud'").contains("warning");
  }

  @Test
  void healthyHostExitsZero() {
    assertThat(check(FakeNvml.healthyH100())).as(out + "" + err).isZero();
    assertThat(out.toString()).contains("node n1: HEALTHY").contains("gpu-count").contains("xid");
  }

  @Test
  void degradedHostExitsOne() {
    assertThat(check(FakeNvml.healthyH100().toBuilder()
        .gpu(3, g -> g.clockEventReasons(ClockEventReason.HW_SLOWDOWN)).build())).isEqualTo(1);
    assertThat(out.toString()).contains("clock-slowdown     DEGRADED").contains("HW_SLOWDOWN");
  }

  @Test
  void unhealthyHostExitsTwoAndJsonIsAHostCheckReport() throws Exception {
    assertThat(check(FakeNvml.healthyH100().toBuilder().gpu(1, g -> g.remappedRows(0, 9, false, true)).build(), "--json"))
        .isEqualTo(2);
    HostCheckReport.Builder report = HostCheckReport.newBuilder();
    JsonFormat.parser().merge(out.toString(), report);
    assertThat(report.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(report.getNodeId()).isEqualTo("n1");
    assertThat(report.getResultsList()).anySatisfy(r -> assertThat(r.getCheck()).isEqualTo("ecc"));
  }

  @Test
  void unusableNvmlExitsThree() {
    assertThat(check(FakeNvml.healthyH100().toBuilder().initError(NvmlReturn.DRIVER_NOT_LOADED).build())).isEqualTo(3);
    assertThat(out.toString()).contains("NVML_ERROR_DRIVER_NOT_LOADED");
  }

  @Test
  void unknownCheckNameExitsThreeNamingIt() {
    assertThat(check(FakeNvml.healthyH100(), "--disable-check", "nosuch")).isEqualTo(3);
    assertThat(err.toString()).contains("nosuch");
  }

  @Test
  void hungGpuIsReportedUnresponsiveWithinTheBudgetAndTheOthersHealthy() {
    long start = System.nanoTime();
    int code = check(FakeNvml.healthyH100().toBuilder().gpu(4, g -> g.hangMillis(30_000)).build(), "--nvml-timeout", "1s",
        "--timeout", "10s");
    long ms = (System.nanoTime() - start) / 1_000_000;
    FakeNvml.write(FakeNvml.healthyH100()); // ends the hang for the abandoned thread
    assertThat(code).as(out.toString() + err).isEqualTo(2);
    assertThat(ms).as("finished within its 10 s budget, not the 30 s hang").isLessThan(10_000);
    String text = out.toString();
    assertThat(text).contains("gpu-count          UNHEALTHY").contains("GPU 4").contains("unresponsive");
    assertThat(text.lines().filter(l -> l.contains("unresponsive")).count()).as("only GPU 4").isEqualTo(1);
    assertThat(text).contains("ecc                HEALTHY").contains("nvlink             HEALTHY");
  }

  /**
   * Runs {@code agent check} on a copy of {@code fixture} whose records are stamped as logged just
   * now: {@code agent check} turns a record's monotonic time into wall time with this host's boot
   * time, and an ERROR match older than the one-hour hold has already cleared.
   */
  private int checkKernelLog(String fixture) throws Exception {
    Path source = Path.of(CheckCommandTest.class.getResource(fixture).toURI());
    long uptimeMicros = (long) (Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]) * 1_000_000);
    StringBuilder recent = new StringBuilder();
    for (String line : Files.readAllLines(source)) {
      String[] f = line.split(",", 4);
      boolean record = !line.startsWith(" ") && f.length == 4 && f[2].chars().allMatch(Character::isDigit);
      recent.append(record ? f[0] + "," + f[1] + "," + Math.max(0, uptimeMicros - 1_000_000) + "," + f[3] : line).append('\n');
    }
    Path kmsg = dir.resolve("recent.kmsg");
    Files.writeString(kmsg, recent);
    return check(FakeNvml.healthyH100(), "--kmsg", kmsg.toString(), "--sysfs-root", dir.resolve("no-sysfs").toString());
  }

  @Test
  void aGpuFallenOffTheBusInTheCurrentSplitWordingMakesTheHostUnhealthy() throws Exception {
    assertThat(checkKernelLog("/kmsg/forms/fallen-off-bus-split.kmsg")).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("kernel-log         UNHEALTHY").contains("gpu-fallen-off-bus")
        .contains("00000000:3B:00.0");
  }

  @Test
  void aConnectxWhoseRecoveryFailedMakesTheHostUnhealthy() throws Exception {
    assertThat(checkKernelLog("/kmsg/forms/mlx5.kmsg")).as(out + "" + err).isEqualTo(2);
    assertThat(out.toString()).contains("mlx5-health-failed").contains("00000000:61:00.1");
  }

  @Test
  void aHungTaskMakesTheHostDegraded() throws Exception {
    assertThat(checkKernelLog("/kmsg/forms/hung-task.kmsg")).as(out + "" + err).isEqualTo(1);
    assertThat(out.toString()).contains("kernel-log         DEGRADED").contains("hung-task");
  }

  @Test
  void benignKernelLinesLeaveTheHostHealthy() throws Exception {
    for (String fixture : new String[] {"/kmsg/benign/nvidia.kmsg", "/kmsg/benign/cpu-memory.kmsg", "/kmsg/benign/mlx5.kmsg"}) {
      out.getBuffer().setLength(0);
      assertThat(checkKernelLog(fixture)).as(fixture + ": " + out + err).isZero();
      assertThat(out.toString()).contains("kernel-log         HEALTHY");
    }
  }
}
