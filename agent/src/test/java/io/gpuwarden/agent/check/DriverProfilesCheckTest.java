package io.gpuwarden.agent.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.AgentMain;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.nvml.fake.FakeDriverProfile;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.FabricHealth;
import io.gpuwarden.proto.v1.GpuRecoveryAction;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HostCheckReport;
import io.gpuwarden.proto.v1.Reason;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

/**
 * The agent on every driver profile of the fake NVML (FAKE_NVML.md, "Driver profiles"), through
 * the real FFI path with that profile's {@code libnvidia-ml.so.1}: {@code gpuwarden agent check}
 * on the shipped healthy, degraded and unhealthy examples, and the sampling loop over several
 * cycles. A healthy node is healthy on every driver, without a finding, a read error or a warning;
 * a fault is found wherever the driver can report it, and where it cannot (the recovery action
 * before R565, fabric health before R550) the check has nothing to judge and says nothing.
 */
class DriverProfilesCheckTest {
  /** Field 230 (GPU recovery action) exists from R565. */
  private static final Set<FakeDriverProfile> RECOVERY_ACTION = EnumSet.of(FakeDriverProfile.R570, FakeDriverProfile.R580);

  @TempDir
  Path dir;

  private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      logged.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };
  private final Logger agentLogger = Logger.getLogger("io.gpuwarden");
  private Level previousLevel;

  @BeforeEach
  void setUp() throws Exception {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
    previousLevel = agentLogger.getLevel();
    agentLogger.setLevel(Level.ALL);
    agentLogger.addHandler(capture);
  }

  @AfterEach
  void tearDown() {
    agentLogger.removeHandler(capture);
    agentLogger.setLevel(previousLevel);
  }

  /** {@code gpuwarden agent check --json} on {@code profile}'s library; the host's own kernel log and sysfs stay out. */
  private Check check(FakeNvmlState state, FakeDriverProfile profile) throws Exception {
    FakeNvml.write(state);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = AgentMain.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute("check", "--json", "--nvml-lib", FakeNvml.library(profile).toString(),
        "--boot-id-file", dir.resolve("boot_id").toString(), "--state-dir", dir.resolve("state-" + profile).toString(),
        "--node-id", "n1", "--kmsg", "none", "--sysfs-root", dir.resolve("no-sysfs").toString());
    HostCheckReport.Builder report = HostCheckReport.newBuilder();
    if (!out.toString().isBlank()) {
      JsonFormat.parser().merge(out.toString(), report);
    }
    return new Check(code, report.build(), err.toString());
  }

  private record Check(int exitCode, HostCheckReport report, String err) {
    Map<String, CheckResult> byName() {
      return report.getResultsList().stream().collect(Collectors.toMap(CheckResult::getCheck, r -> r));
    }

    HealthState state(String check) {
      return byName().get(check).getState();
    }

    List<String> messages(String check) {
      return byName().get(check).getReasonsList().stream().map(Reason::getMessage).toList();
    }

    /** Every check that is not healthy, as {@code name=STATE}. */
    List<String> notHealthy() {
      return report.getResultsList().stream().filter(r -> r.getState() != HealthState.HEALTH_STATE_HEALTHY)
          .map(r -> r.getCheck() + "=" + r.getState().name().replace("HEALTH_STATE_", "")).sorted().toList();
    }
  }

  private HostMonitor monitor(FakeDriverProfile profile) {
    AgentConfig config = AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library(profile))
        .bootIdFile(dir.resolve("boot_id")).stateDir(dir.resolve("state-" + profile)).sysfsRoot(dir.resolve("no-sysfs"))
        .logs(LogConfig.none()).build();
    return HostMonitor.open(config, Clock.systemUTC(), false, () -> {});
  }

  @ParameterizedTest
  @EnumSource(FakeDriverProfile.class)
  void aHealthyNodeExitsZeroWithoutAFindingOnEveryDriver(FakeDriverProfile profile) throws Exception {
    Check c = check(FakeNvml.example("h100-8gpu-healthy", profile), profile);

    assertThat(c.exitCode()).as("%s%s", c.report(), c.err()).isZero();
    assertThat(c.report().getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(c.byName().keySet()).containsAll(BuiltInChecks.NAMES);
    assertThat(c.report().getResultsList()).allSatisfy(r -> assertThat(r.getReasonsList()).as(r.getCheck()).isEmpty());
  }

  @ParameterizedTest
  @EnumSource(FakeDriverProfile.class)
  void aHealthyNodeIsReadWithoutReadErrorsOrWarningsCycleAfterCycle(FakeDriverProfile profile) {
    FakeNvml.write(FakeNvml.example("h100-8gpu-healthy", profile));
    List<Event> events = new ArrayList<>();
    List<List<String>> notHealthy = new ArrayList<>();
    GpuSample last;
    try (HostMonitor m = monitor(profile)) {
      assertThat(m.nvmlFailure()).isEmpty();
      assertThat(m.driver().getDriverVersion()).isEqualTo(profile.driverVersion());
      assertThat(m.driver().getNvmlVersion()).isEqualTo(profile.nvmlVersion());
      HostMonitor.Cycle cycle = null;
      for (int i = 0; i < 3; i++) {
        cycle = m.cycle();
        events.addAll(cycle.snapshot().events());
        notHealthy.add(cycle.results().stream().filter(r -> r.getState() != HealthState.HEALTH_STATE_HEALTHY)
            .map(CheckResult::getCheck).toList());
      }
      last = cycle.snapshot().gpus().get(0);
    }

    assertThat(notHealthy).as("no check flaps").containsOnly(List.of());
    assertThat(events).as("no source errors: what the driver lacks is not a failing read")
        .noneMatch(Event::hasSourceError);
    assertThat(logged).as("no warnings").noneMatch(r -> r.getLevel().intValue() >= Level.WARNING.intValue());
    List<String> unknownFieldNotes = logged.stream().map(LogRecord::getMessage)
        .filter(message -> message != null && message.contains("unknown to this driver")).toList();
    if (RECOVERY_ACTION.contains(profile)) {
      assertThat(unknownFieldNotes).isEmpty();
      assertThat(last.getRecoveryAction()).isEqualTo(GpuRecoveryAction.GPU_RECOVERY_ACTION_NONE);
    } else {
      assertThat(unknownFieldNotes).as("said once, not every cycle").singleElement().asString().contains("field 230");
      assertThat(last.getRecoveryAction()).as("not read").isEqualTo(GpuRecoveryAction.GPU_RECOVERY_ACTION_UNSPECIFIED);
    }
    assertThat(last.hasTemperatureCelsius()).as("nvmlDeviceGetTemperature before R570").isTrue();
    assertThat(last.getTemperatureCelsius()).isEqualTo(33);
    assertThat(last.getMemoryTotalBytes()).isEqualTo(85_520_809_984L);
    assertThat(last.getClockEventReasons()).isEqualTo(1L);
    assertThat(last.getNvlinksCount()).isEqualTo(18);
    switch (profile) {
      case R535 -> {
        assertThat(last.getFabric().getHealth()).isEqualTo(FabricHealth.FABRIC_HEALTH_NOT_SUPPORTED);
        assertThat(last.getFabric().getHealthMask()).as("fabric info v1 has no mask").isZero();
      }
      case R550 -> {
        assertThat(last.getFabric().getHealth()).isEqualTo(FabricHealth.FABRIC_HEALTH_NOT_SUPPORTED);
        assertThat(last.getFabric().getHealthMask()).as("only degraded bandwidth (false)").isEqualTo(0x2);
      }
      case R570 -> {
        assertThat(last.getFabric().getHealth()).isEqualTo(FabricHealth.FABRIC_HEALTH_NOT_SUPPORTED);
        assertThat(last.getFabric().getHealthMask()).isEqualTo(0x1AA);
      }
      case R580 -> {
        assertThat(last.getFabric().getHealth()).isEqualTo(FabricHealth.FABRIC_HEALTH_HEALTHY);
        assertThat(last.getFabric().getHealthMask()).isEqualTo(0x1AA);
      }
      default -> throw new AssertionError(profile);
    }
  }

  @ParameterizedTest
  @EnumSource(FakeDriverProfile.class)
  void theDegradedExampleIsDegradedOnEveryDriver(FakeDriverProfile profile) throws Exception {
    Check c = check(FakeNvml.example("h100-8gpu-degraded", profile), profile);

    assertThat(c.exitCode()).as("%s%s", c.report(), c.err()).isEqualTo(1);
    assertThat(c.notHealthy()).containsExactly("clock-slowdown=DEGRADED", "pcie=DEGRADED");
    assertThat(c.messages("clock-slowdown")).singleElement().asString().contains("GPU 5").contains("HW_SLOWDOWN")
        .contains("HW_THERMAL_SLOWDOWN");
    assertThat(c.messages("pcie")).singleElement().asString().contains("GPU 3").contains("x8");
  }

  @ParameterizedTest
  @EnumSource(FakeDriverProfile.class)
  void theUnhealthyExampleIsFoundAsFarAsEachDriverCanReportIt(FakeDriverProfile profile) throws Exception {
    Check c = check(FakeNvml.example("h100-8gpu-unhealthy", profile), profile);

    assertThat(c.exitCode()).as("%s%s", c.report(), c.err()).isEqualTo(2);
    assertThat(c.state("ecc")).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(String.join("\n", c.messages("ecc"))).contains("GPU 2");
    assertThat(c.state("nvlink")).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(String.join("\n", c.messages("nvlink"))).contains("GPU 6").contains("7");
    List<String> expected = new ArrayList<>(List.of("ecc=UNHEALTHY", "nvlink=UNHEALTHY"));
    if (RECOVERY_ACTION.contains(profile)) {
      expected.add("recovery-action=UNHEALTHY");
      assertThat(c.messages("recovery-action")).singleElement().asString().contains("GPU 2").contains("GPU_RESET");
    } else {
      assertThat(c.messages("recovery-action")).as("the driver has no recovery action to report").isEmpty();
    }
    switch (profile) {
      case R535 -> assertThat(c.messages("fabric")).as("fabric info v1 carries no health").isEmpty();
      case R550, R570 -> {
        expected.add("fabric=DEGRADED");
        assertThat(c.messages("fabric")).singleElement().asString().contains("GPU 6").contains("bandwidth is degraded");
      }
      case R580 -> {
        expected.add("fabric=DEGRADED");
        assertThat(c.messages("fabric")).singleElement().asString().contains("GPU 6").contains("limited capacity");
      }
      default -> throw new AssertionError(profile);
    }
    assertThat(c.notHealthy()).containsExactlyInAnyOrderElementsOf(expected);
  }

  @ParameterizedTest
  @EnumSource(FakeDriverProfile.class)
  void aStateOfAnotherDriverIsAnUnusableNvmlNotAHealthyNode(FakeDriverProfile profile) throws Exception {
    FakeDriverProfile other = profile == FakeDriverProfile.R580 ? FakeDriverProfile.R535 : FakeDriverProfile.R580;
    Check c = check(FakeNvml.example("h100-8gpu-healthy", other), profile);

    assertThat(c.exitCode()).as("%s%s", c.report(), c.err()).isEqualTo(3);
    assertThat(String.join("\n", c.messages("gpu-count"))).contains("LIB_RM_VERSION_MISMATCH");
  }
}
