package io.gpuwarden.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.check.CheckConfig;
import io.gpuwarden.agent.check.infiniband.InfinibandCheckConfig;
import io.gpuwarden.agent.logs.KernelLog;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.LogSource;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitor with every source wired: the fake NVML, InfiniBand sysfs fixture trees in the real
 * layout, and kernel logs in the {@code /dev/kmsg} record format, as the daemon and
 * {@code agent check} use them.
 */
class HostMonitorLogsAndInfinibandTest {
  @TempDir
  Path dir;

  private final TestClock now = TestClock.at(Instant.now());
  private final Clock clock = now;
  private final List<HostMonitor> open = new ArrayList<>();
  private FakeNvmlState nvml;

  @BeforeEach
  void setUp() throws IOException {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
    nvml = FakeNvml.healthyH100();
    FakeNvml.write(nvml);
  }

  @AfterEach
  void tearDown() {
    open.forEach(HostMonitor::close);
  }

  private AgentConfig.Builder config(Path sysfs, LogConfig logs) {
    return AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library()).bootIdFile(dir.resolve("boot_id"))
        .stateDir(dir.resolve("state")).sysfsRoot(sysfs).logs(logs)
        .checks(CheckConfig.defaults().withInfiniband(InfinibandCheckConfig.defaults().withExpectedPorts(8).withExpectedRateGbps(400)));
  }

  private HostMonitor monitor(AgentConfig config, boolean daemon) {
    HostMonitor m = HostMonitor.open(config, clock, daemon, () -> {});
    open.add(m);
    return m;
  }

  private static Map<String, CheckResult> byName(HostMonitor.Cycle c) {
    return c.results().stream().collect(Collectors.toMap(CheckResult::getCheck, r -> r));
  }

  private Path noSysfs() {
    return dir.resolve("no-sysfs");
  }

  private Path kmsg(String... records) throws IOException {
    Path f = dir.resolve("kmsg");
    Files.writeString(f, records.length == 0 ? "" : String.join("\n", records) + "\n");
    return f;
  }

  private static void append(Path kmsg, String... records) throws IOException {
    Files.writeString(kmsg, String.join("\n", records) + "\n", StandardOpenOption.APPEND);
  }

  @Test
  void healthyHostHasEightActiveNdrPortsInSamplesAndInventory() {
    HostMonitor m = monitor(config(SysfsFixtures.fixture("healthy-8x-ndr"), LogConfig.none()).build(), false);
    HostMonitor.Cycle c = m.cycle();
    assertThat(c.infiniband()).hasSize(8).allSatisfy(p -> {
      assertThat(p.getStateName()).isEqualTo("ACTIVE");
      assertThat(p.getRateBitsPerSecond()).isEqualTo(400_000_000_000L);
    });
    assertThat(m.infinibandInventory()).hasSize(8).allSatisfy(p -> {
      assertThat(p.getFirmwareVersion()).isNotEmpty();
      assertThat(p.getLinkLayer()).isEqualTo("InfiniBand");
    });
    Map<String, CheckResult> r = byName(c);
    assertThat(r.get("infiniband-port").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(r.get("infiniband-flap").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(r.get("infiniband-errors").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(r.get("kernel-log").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void portDownIsUnhealthyAndDegradedRateIsDegraded() {
    CheckResult down = byName(monitor(config(SysfsFixtures.fixture("port-down"), LogConfig.none()).build(), false).cycle())
        .get("infiniband-port");
    assertThat(down.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(down.getReasonsList()).anySatisfy(reason ->
        assertThat(reason.getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT));

    CheckResult slow = byName(monitor(config(SysfsFixtures.fixture("degraded-rate"), LogConfig.none()).build(), false).cycle())
        .get("infiniband-port");
    assertThat(slow.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
  }

  @Test
  void flappingLinkIsDegradedAndAVanishedHcaIsMissingPorts() throws IOException {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    HostMonitor m = monitor(config(root, LogConfig.none()).build(), true);
    m.cycle();
    long version = m.inventoryVersion();
    SysfsFixtures.writeCounter(root, "mlx5_3", "link_downed", 1);
    now.set(now.get().plusSeconds(1));
    assertThat(byName(m.cycle()).get("infiniband-flap").getState())
        .as("counters are read every detail interval (10 s by default), not every cycle")
        .isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    now.set(now.get().plusSeconds(9));
    CheckResult flap = byName(m.cycle()).get("infiniband-flap");
    assertThat(flap.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(flap.getReasonsList()).extracting(r -> r.getComponent().getHca()).containsExactly("mlx5_3");

    Files.delete(root.resolve("class/infiniband/mlx5_7"));
    now.set(now.get().plusSeconds(1));
    HostMonitor.Cycle c = m.cycle(); // not a detail cycle: the port that cannot be read makes it list anew
    assertThat(c.infiniband()).hasSize(7);
    assertThat(m.inventoryVersion()).isNotEqualTo(version);
    assertThat(m.infinibandInventory()).hasSize(7);
    assertThat(byName(c).get("infiniband-port").getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void healthyThenTheFlappingLinkFixtureIsUnhealthyWithErrorRecoveryDegraded() throws IOException {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    HostMonitor m = monitor(config(root, LogConfig.none()).build(), true);
    m.cycle();
    Path flapping = SysfsFixtures.port(SysfsFixtures.fixture("flapping-link"), "mlx5_5").resolve("counters");
    for (String counter : List.of("link_downed", "link_error_recovery")) {
      SysfsFixtures.writeCounter(root, "mlx5_5", counter, Long.parseLong(Files.readString(flapping.resolve(counter)).trim()));
    }
    now.set(now.get().plusSeconds(60));
    Map<String, CheckResult> r = byName(m.cycle());
    assertThat(r.get("infiniband-flap").getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(r.get("infiniband-flap").getReasons(0).getMessage()).contains("mlx5_5");
    assertThat(r.get("infiniband-errors").getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(r.get("infiniband-errors").getReasons(0).getMessage()).contains("link_error_recovery");
    assertThat(r.get("infiniband-port").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void oneShotCheckJudgesXidsLoggedBeforeItMappingAddressesToGpus() throws IOException {
    Path kmsg = kmsg(
        "6,100,1000000,-;usb 1-1: new high-speed USB device number 2 using xhci_hcd",
        "4,101,2000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.",
        " SUBSYSTEM=pci",
        " DEVICE=+pci:0000:18:00.0",
        "3,102,3000000,-;NVRM: GPU 0000:01:00.0: GPU has fallen off the bus.");
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))).build(), false);
    awaitLogs(m);
    Map<String, CheckResult> r = byName(m.cycle());

    CheckResult xid = r.get("xid");
    assertThat(xid.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    Reason x = xid.getReasons(0);
    assertThat(x.getComponent().getGpuUuid()).isEqualTo(nvml.gpu(0).settings().get("uuid"));
    assertThat(x.getComponent().getPciBusId()).isEqualTo("00000000:18:00.0");
    assertThat(x.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE);

    CheckResult klog = r.get("kernel-log");
    assertThat(klog.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(klog.getReasonsList()).anySatisfy(reason -> {
      assertThat(reason.getComponent().getPciBusId()).isEqualTo("00000000:01:00.0");
      assertThat(reason.getComponent().getGpuUuid()).isEmpty(); // NVML does not list it: reported by address
      assertThat(reason.getMessage()).contains("fallen off the bus").contains("clears on reboot");
    });
  }

  @Test
  void lookBackLeavesOutOlderLines() throws IOException {
    // Boot time comes from /proc/stat, so a record logged 1 s after boot is older than a 1 min look-back
    // on any machine that has been up for more than a minute.
    Path kmsg = kmsg("4,1,1000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))
        .withCheckLookback(Optional.of(Duration.ofMinutes(1)))).build(), false);
    awaitLogs(m);
    assertThat(byName(m.cycle()).get("xid").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void kernelXidAndNvmlEventForOneOccurrenceCountOnce() throws IOException {
    Path kmsg = kmsg();
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))).build(), true);
    m.cycle();
    nvml = nvml.toBuilder().xid(nvml.nextEventId(), 0, 79).build();
    FakeNvml.write(nvml);
    append(kmsg, "4,7,9000000,-;NVRM: Xid (PCI:0000:18:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    List<Event> events = new ArrayList<>();
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      events.addAll(m.cycle().snapshot().events());
      return m.duplicateXids() == 1;
    });
    assertThat(events.stream().filter(Event::hasXid)).hasSize(1);
    CheckResult xid = byName(m.cycle()).get("xid");
    assertThat(xid.getReasons(0).getMessage()).contains("1 time,");
  }

  /** The resume point as written to the state directory now (what a crash would leave). */
  private Optional<String> resumeOnDisk(AgentConfig config) {
    return io.gpuwarden.agent.state.FileStateStore.open(config.stateDir())
        .get(io.gpuwarden.agent.logs.KernelLog.RESUME_KEY + "boot-1");
  }

  @Test
  void theResumePointIsWrittenAtOnceAfterAnEventAndOtherwiseOnceAMinute() throws Exception {
    Path kmsg = kmsg("6,1,1000,-;plain line one");
    AgentConfig config = config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))).build();
    HostMonitor m = monitor(config, true);
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      m.cycle();
      return resumeOnDisk(config).equals(Optional.of("1"));
    });

    append(kmsg, "6,2,2000,-;plain line two");
    for (int i = 0; i < 10; i++) { // the file is polled every 200 ms: line two is read within these cycles
      m.cycle();
      Thread.sleep(100);
    }
    assertThat(resumeOnDisk(config)).as("plain records: written once a minute").contains("1");
    now.advance(KernelLog.RESUME_WRITE_INTERVAL);
    m.cycle();
    assertThat(resumeOnDisk(config)).contains("2");

    append(kmsg, "4,3,3000,-;NVRM: Xid (PCI:0000:2a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    await().atMost(Duration.ofSeconds(10)).until(() -> byName(m.cycle()).get("xid").getState() == HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(resumeOnDisk(config)).as("a record that raised an event: written at once").contains("3");
  }

  @Test
  void restartResumesAfterTheLastKernelRecordHandled() throws IOException {
    Path kmsg = kmsg("4,10,9000000,-;NVRM: Xid (PCI:0000:2a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    AgentConfig config = config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))).build();
    HostMonitor first = monitor(config, true);
    await().atMost(Duration.ofSeconds(10)).until(() -> byName(first.cycle()).get("xid").getState() == HealthState.HEALTH_STATE_UNHEALTHY);
    first.close();
    open.remove(first);

    HostMonitor second = monitor(config, true);
    assertThat(String.join(" ", second.logSources())).contains("resuming after sequence 10");
    append(kmsg, "4,11,9100000,-;NVRM: Xid (PCI:0000:2a:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.");
    await().atMost(Duration.ofSeconds(10)).until(() -> byName(second.cycle()).get("xid").getReasons(0).getMessage()
        .contains("2 times"));
    now.set(now.get().plusSeconds(1));
    assertThat(byName(second.cycle()).get("xid").getReasons(0).getMessage()).contains("2 times");
  }

  @Test
  void forwardsLinesAtOrAboveTheSeverityWithinTheRateAndCountsTheRest() throws IOException {
    List<String> records = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      records.add("4," + (2 * i) + "," + (1000 + i) + ",-;eth0: link is flapping " + i);
      records.add("6," + (2 * i + 1) + "," + (1000 + i) + ",-;eth0: informational " + i);
    }
    Path kmsg = kmsg(records.toArray(String[]::new));
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg)).withForwarding(4, 0, 10)).build(), true);
    List<io.gpuwarden.proto.v1.LogLine> lines = new ArrayList<>();
    long[] dropped = {0};
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      HostMonitor.Cycle c = m.cycle();
      lines.addAll(c.logLines());
      dropped[0] += c.droppedLogLines();
      return lines.size() + dropped[0] >= 100;
    });
    assertThat(lines).hasSize(10).allSatisfy(l -> {
      assertThat(l.getPriority()).isEqualTo(4);
      assertThat(l.getSource()).isEqualTo(LogSource.LOG_SOURCE_KMSG);
      assertThat(l.getText()).startsWith("eth0: link is flapping");
    });
    assertThat(lines.get(0).getSequence()).isEqualTo(0);
    assertThat(dropped[0]).isEqualTo(90);
    assertThat(m.logForwarder().droppedTotal()).isEqualTo(90);
  }

  @Test
  void overwrittenKernelRecordsAreCountedAndReported() throws IOException {
    Path kmsg = kmsg("4,1,1000,-;first warning", "4,50,2000,-;after a gap of 48 records");
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(kmsg))).build(), true);
    List<Event> events = new ArrayList<>();
    long[] dropped = {0};
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      HostMonitor.Cycle c = m.cycle();
      events.addAll(c.forward());
      dropped[0] += c.droppedLogLines();
      return events.stream().anyMatch(Event::hasSourceError);
    });
    assertThat(dropped[0]).isEqualTo(48);
    assertThat(events).filteredOn(Event::hasSourceError).singleElement()
        .satisfies(e -> assertThat(e.getMessage()).contains("48 kernel log records were overwritten"));
  }

  @Test
  void unreadableKernelLogIsReportedNotFatal() {
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withKmsg(Optional.of(dir.resolve("missing-kmsg")))).build(), true);
    assertThat(m.logProblems()).anySatisfy(s -> assertThat(s).contains("missing-kmsg"));
    HostMonitor.Cycle c = m.cycle();
    assertThat(c.forward()).anySatisfy(e -> assertThat(e.getSourceError().getError()).contains("no such file"));
    assertThat(byName(c).get("kernel-log").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void withoutKmsgKernelLinesOfASyslogFileAreClassified() throws IOException {
    Path kernLog = dir.resolve("kern.log");
    String ts = java.time.format.DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(now.get().minusSeconds(5).atOffset(ZoneOffset.UTC));
    Files.writeString(kernLog, String.join("\n",
        ts + " host kernel: [ 1234.567890] nvidia-nvswitch3: SXid (PCI:0000:07:00.0): 12028, Fatal, Link 37 egress non-posted PRIV error",
        ts + " host systemd[1]: Started Session 5 of user root.",
        "") + "\n");
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withSyslogFiles(List.of(kernLog))).build(), false);
    awaitLogs(m);
    HostMonitor.Cycle c = m.cycle();
    CheckResult klog = byName(c).get("kernel-log");
    assertThat(klog.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(klog.getReasons(0).getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_NVSWITCH);
    assertThat(klog.getReasons(0).getMessage()).contains("SXid 12028 (fatal)");
    assertThat(c.logLines()).extracting(io.gpuwarden.proto.v1.LogLine::getSource).containsOnly(LogSource.LOG_SOURCE_SYSLOG);
    assertThat(c.logLines()).singleElement().satisfies(l -> assertThat(l.getText()).startsWith("kernel: nvidia-nvswitch3"));
  }

  @Test
  void aFollowedSyslogFileIsReadAcrossRotation() throws IOException {
    Path kernLog = dir.resolve("kern.log");
    Files.writeString(kernLog, "");
    HostMonitor m = monitor(config(noSysfs(), LogConfig.none().withSyslogFiles(List.of(kernLog))).build(), true);
    m.cycle();
    Files.move(kernLog, dir.resolve("kern.log.1"));
    Files.writeString(kernLog, "Nov 30 05:00:00 host kernel: pcieport 0000:00:01.0: AER: Uncorrected (Fatal) error received: 0000:3b:00.0\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> byName(m.cycle()).get("kernel-log").getState()
        == HealthState.HEALTH_STATE_UNHEALTHY);
  }

  private static void awaitLogs(HostMonitor m) {
    try {
      m.awaitLogsRead(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
