package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.CheckConfig;
import io.gpuwarden.agent.check.infiniband.InfinibandCheckConfig;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up log: one summary line of what the agent found, then one line per thing it could not open, with why. */
class StartupReportTest {
  @TempDir
  Path dir;

  @BeforeEach
  void setUp() throws IOException {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
    FakeNvml.write(FakeNvml.healthyH100());
  }

  private AgentConfig.Builder healthy() {
    return AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library()).bootIdFile(dir.resolve("boot_id"))
        .stateDir(dir.resolve("state")).sysfsRoot(SysfsFixtures.fixture("healthy-8x-ndr"))
        .logs(LogConfig.none().withKmsg(Optional.empty()));
  }

  private static StartupReport report(AgentConfig config) {
    try (HostMonitor m = HostMonitor.open(config, Clock.systemUTC(), false, () -> {})) {
      return StartupReport.of(config, m);
    }
  }

  @Test
  void healthyHostIsOneLineWithGpusPortsAndLogs() throws IOException {
    Path kernLog = Files.writeString(dir.resolve("kern.log"), "");
    StartupReport r = report(healthy().logs(LogConfig.none().withKmsg(Optional.empty()).withSyslogFiles(List.of(kernLog)))
        .build());
    assertThat(r.summary()).contains("node=n1").contains("boot=boot-1").contains("8 GPUs (driver ")
        .contains("8 InfiniBand ports under " + SysfsFixtures.fixture("healthy-8x-ndr")).contains("logs syslog " + kernLog)
        .doesNotContain("\n").doesNotContain("problem");
    assertThat(r.problems()).isEmpty();
  }

  @Test
  void eachThingThatCannotBeOpenedIsOneLineSayingWhy() throws IOException {
    Path notADir = Files.writeString(dir.resolve("file"), "");
    AgentConfig config = healthy()
        .nvmlLibrary(dir.resolve("no-such/libnvidia-ml.so.1"))
        .sysfsRoot(dir.resolve("no-sysfs"))
        .checks(CheckConfig.defaults().withInfiniband(InfinibandCheckConfig.defaults().withExpectedPorts(8)))
        .logs(LogConfig.none().withKmsg(Optional.of(dir.resolve("no-kmsg"))).withSyslogFiles(List.of(dir.resolve("no-kern.log"))))
        .stateDir(notADir.resolve("state"))
        .build();
    StartupReport r = report(config);
    assertThat(r.summary()).contains("no GPUs (NVML unusable)").contains("0 InfiniBand ports").endsWith("5 problems follow");
    assertThat(r.problems()).satisfiesExactly(
        p -> assertThat(p).startsWith("could not open NVML: NVML unusable: ").contains("no-such/libnvidia-ml.so.1")
            .endsWith("retrying every 30 s"),
        p -> assertThat(p).isEqualTo("could not open InfiniBand: " + dir.resolve("no-sysfs/class/infiniband")
            + " does not exist, but 8 ports are expected"),
        p -> assertThat(p).isEqualTo("could not open log: cannot read " + dir.resolve("no-kmsg") + ": no such file"),
        p -> assertThat(p).isEqualTo("could not open log: syslog " + dir.resolve("no-kern.log")
            + ": no such file (followed once it appears)"),
        p -> assertThat(p).startsWith("could not open state: cannot create state directory " + notADir.resolve("state")));
  }

  @Test
  void runningAgentLogsTheSummaryThenOneWarningPerProblem() {
    Logger logger = Logger.getLogger(Agent.class.getName());
    List<LogRecord> records = new ArrayList<>();
    Handler capture = new Handler() {
      @Override
      public void publish(LogRecord r) {
        records.add(r);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    logger.addHandler(capture);
    try (Agent agent = Agent.start(healthy().collectorTarget("127.0.0.1:1")
        .logs(LogConfig.none().withKmsg(Optional.of(dir.resolve("no-kmsg")))).build())) {
      assertThat(agent.config().nodeId()).isEqualTo("n1");
    } finally {
      logger.removeHandler(capture);
    }
    assertThat(records.subList(0, 2)).extracting(LogRecord::getLevel).containsExactly(Level.INFO, Level.WARNING);
    assertThat(records.get(0).getMessage()).contains("8 GPUs").contains("8 InfiniBand ports").contains("; logs none;")
        .endsWith("1 problem follows");
    assertThat(records.get(1).getMessage())
        .isEqualTo("could not open log: cannot read " + dir.resolve("no-kmsg") + ": no such file");
  }
}
