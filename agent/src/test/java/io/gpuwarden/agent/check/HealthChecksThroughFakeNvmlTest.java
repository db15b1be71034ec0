package io.gpuwarden.agent.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.nvml.ClockEventReason;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.FabricState;
import io.gpuwarden.nvml.GpuRecoveryAction;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.fake.FakeGpu;
import io.gpuwarden.nvml.fake.FakeDriverProfile;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every built-in check, driven end to end through the fake {@code libnvidia-ml.so.1}: a state file
 * with one fault, the real FFI path, the hang-proof sampler, then the checks. Each check is seen
 * healthy, degraded and/or unhealthy, and with NOT_SUPPORTED (judged healthy: not supported is not
 * broken).
 */
class HealthChecksThroughFakeNvmlTest {
  @TempDir
  Path dir;

  @BeforeEach
  void bootId() throws Exception {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
  }

  private Map<String, CheckResult> run(FakeNvmlState state) {
    return run(FakeDriverProfile.NEWEST, state);
  }

  private Map<String, CheckResult> run(FakeDriverProfile profile, FakeNvmlState state) {
    FakeNvml.write(state.toBuilder().driverProfile(profile).build());
    AgentConfig config = AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library(profile))
        .bootIdFile(dir.resolve("boot_id")).stateDir(dir.resolve("state")).sysfsRoot(dir.resolve("no-sysfs")).logs(LogConfig.none()).build();
    try (HostMonitor m = HostMonitor.open(config, Clock.systemUTC(), false, () -> {})) {
      return m.cycle().results().stream().collect(Collectors.toMap(CheckResult::getCheck, r -> r));
    }
  }

  private static FakeNvmlState gpu(int index, UnaryOperator<FakeGpu.Builder> edit) {
    return FakeNvml.healthyH100().toBuilder().gpu(index, edit).build();
  }

  /** What a scenario's fault needs the driver to report; on a driver without it the check sees nothing. */
  enum Needs {
    NOTHING(p -> true),
    /** Field 230, NVML_FI_DEV_GET_GPU_RECOVERY_ACTION (R570 and later of the profiles). */
    RECOVERY_ACTION_FIELD(p -> p.knowsField(230)),
    /** nvmlDeviceGetGpuFabricInfoV with the health mask's degraded-bandwidth field (R550 and later). */
    FABRIC_HEALTH_MASK(p -> p.fabricInfoVersion() >= 2),
    /** The mask's route fields, which R550 does not fill in (R570 and later). */
    FABRIC_ROUTE_HEALTH(p -> p.fabricInfoVersion() >= 2 && p.branch() >= 570);

    final java.util.function.Predicate<FakeDriverProfile> on;

    Needs(java.util.function.Predicate<FakeDriverProfile> on) {
      this.on = on;
    }
  }

  /**
   * Every scenario on every driver profile: where the driver cannot report the fault, the check
   * must see a healthy GPU, not an error.
   */
  static Stream<Arguments> scenarios() {
    return java.util.Arrays.stream(FakeDriverProfile.values()).flatMap(profile -> baseScenarios().map(a -> {
      Object[] v = a.get();
      Needs needs = (Needs) v[5];
      boolean reported = needs.on.test(profile);
      return Arguments.of(profile, v[0], v[1], v[2], reported ? v[3] : HealthState.HEALTH_STATE_HEALTHY,
          reported ? v[4] : null);
    }));
  }

  static Stream<Arguments> baseScenarios() {
    return Stream.of(
        Arguments.of("healthy host", FakeNvml.healthyH100(), "*", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("gpu lost", gpu(2, g -> g.lost(true)), "gpu-count", HealthState.HEALTH_STATE_UNHEALTHY,
            SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE, Needs.NOTHING),
        Arguments.of("volatile uncorrectable ECC", gpu(1, g -> g.eccTotal(EccCounterType.VOLATILE, MemoryErrorType.UNCORRECTED, 2)),
            "ecc", HealthState.HEALTH_STATE_UNHEALTHY, SuggestedAction.SUGGESTED_ACTION_RESET_GPU, Needs.NOTHING),
        Arguments.of("remap pending", gpu(1, g -> g.remappedRows(1, 0, true, false)), "ecc",
            HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_RESET_GPU, Needs.NOTHING),
        Arguments.of("remap failure", gpu(1, g -> g.remappedRows(3, 8, false, true)), "ecc",
            HealthState.HEALTH_STATE_UNHEALTHY, SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION, Needs.NOTHING),
        Arguments.of("ECC not supported", gpu(1, g -> g.fail("nvmlDeviceGetTotalEccErrors", NvmlReturn.NOT_SUPPORTED)
            .fail("nvmlDeviceGetMemoryErrorCounter", NvmlReturn.NOT_SUPPORTED).fail("nvmlDeviceGetRemappedRows", NvmlReturn.NOT_SUPPORTED)
            .failField(3, NvmlReturn.NOT_SUPPORTED).failField(4, NvmlReturn.NOT_SUPPORTED).failField(5, NvmlReturn.NOT_SUPPORTED)
            .failField(6, NvmlReturn.NOT_SUPPORTED).failField(142, NvmlReturn.NOT_SUPPORTED).failField(143, NvmlReturn.NOT_SUPPORTED)
            .failField(144, NvmlReturn.NOT_SUPPORTED).failField(145, NvmlReturn.NOT_SUPPORTED)
            .eccTotal(io.gpuwarden.nvml.EccCounterType.VOLATILE, io.gpuwarden.nvml.MemoryErrorType.UNCORRECTED, 5)),
            "ecc", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("recovery action reboot", gpu(4, g -> g.recoveryAction(GpuRecoveryAction.NODE_REBOOT)), "recovery-action",
            HealthState.HEALTH_STATE_UNHEALTHY, SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE, Needs.RECOVERY_ACTION_FIELD),
        Arguments.of("recovery action drain p2p", gpu(4, g -> g.recoveryAction(GpuRecoveryAction.DRAIN_P2P)), "recovery-action",
            HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_RESTART_APPLICATION, Needs.RECOVERY_ACTION_FIELD),
        Arguments.of("HW thermal slowdown", gpu(3, g -> g.clockEventReasons(ClockEventReason.HW_THERMAL_SLOWDOWN)),
            "clock-slowdown", HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION, Needs.NOTHING),
        Arguments.of("SW power cap is normal", gpu(3, g -> g.clockEventReasons(ClockEventReason.SW_POWER_CAP)),
            "clock-slowdown", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("clock reasons not supported", gpu(3, g -> g.fail("nvmlDeviceGetCurrentClocksEventReasons", NvmlReturn.NOT_SUPPORTED)
            .fail("nvmlDeviceGetCurrentClocksThrottleReasons", NvmlReturn.NOT_SUPPORTED)), "clock-slowdown",
            HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("PCIe x8 of x16", gpu(5, g -> g.pcieLink(5, 8)), "pcie", HealthState.HEALTH_STATE_DEGRADED,
            SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION, Needs.NOTHING),
        Arguments.of("PCIe gen1 while idle is normal", gpu(5, g -> g.pcieLink(1, 16)), "pcie", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("PCIe gen1 while busy", gpu(5, g -> g.pcieLink(1, 16).utilization(90, 40)), "pcie",
            HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION, Needs.NOTHING),
        Arguments.of("PCIe not supported", gpu(5, g -> g.fail("nvmlDeviceGetCurrPcieLinkWidth", NvmlReturn.NOT_SUPPORTED)
            .fail("nvmlDeviceGetCurrPcieLinkGeneration", NvmlReturn.NOT_SUPPORTED)), "pcie", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("NVLink down", gpu(6, g -> g.nvlinkUp(3, false)), "nvlink", HealthState.HEALTH_STATE_UNHEALTHY,
            SuggestedAction.SUGGESTED_ACTION_RESET_GPU, Needs.NOTHING),
        Arguments.of("NVLink not supported", gpu(6, g -> g.fail("nvmlDeviceGetNvLinkState", NvmlReturn.NOT_SUPPORTED)), "nvlink",
            HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("fabric probe failed", gpu(0, g -> g.fabric(FabricState.COMPLETED, NvmlReturn.UNKNOWN)), "fabric",
            HealthState.HEALTH_STATE_UNHEALTHY, SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC, Needs.NOTHING),
        Arguments.of("fabric limited capacity", gpu(0, g -> g.fabricHealth(0x1, io.gpuwarden.nvml.FabricHealthSummary.LIMITED_CAPACITY)),
            "fabric", HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC, Needs.FABRIC_HEALTH_MASK),
        Arguments.of("recovery action not supported", gpu(4, g -> g.failField(230, NvmlReturn.NOT_SUPPORTED)), "recovery-action",
            HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("recovery action unknown to the driver", gpu(4, g -> g.failField(230, NvmlReturn.INVALID_ARGUMENT)),
            "recovery-action", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("fabric bandwidth degraded without a summary (fabric info v2)",
            gpu(0, g -> g.fabricInfoMaxVersion(2).fabricHealth(0x1A9, io.gpuwarden.nvml.FabricHealthSummary.NOT_SUPPORTED)),
            "fabric", HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC, Needs.FABRIC_HEALTH_MASK),
        Arguments.of("fabric route unhealthy without a summary (fabric info v2)",
            gpu(0, g -> g.fabricInfoMaxVersion(2).fabricHealth(0x19A, io.gpuwarden.nvml.FabricHealthSummary.NOT_SUPPORTED)),
            "fabric", HealthState.HEALTH_STATE_UNHEALTHY, SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC, Needs.FABRIC_ROUTE_HEALTH),
        Arguments.of("fabric mask without a summary, nothing true", gpu(0, g -> g.fabricInfoMaxVersion(2)), "fabric",
            HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("fabric not supported", gpu(0, g -> g.fabric(FabricState.NOT_SUPPORTED, NvmlReturn.SUCCESS)), "fabric",
            HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("persistence off", gpu(2, g -> g.persistenceMode(false)), "persistence-mode",
            HealthState.HEALTH_STATE_DEGRADED, SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION, Needs.NOTHING),
        Arguments.of("persistence not supported", gpu(2, g -> g.fail("nvmlDeviceGetPersistenceMode", NvmlReturn.NOT_SUPPORTED)),
            "persistence-mode", HealthState.HEALTH_STATE_HEALTHY, null, Needs.NOTHING),
        Arguments.of("driver not loaded", FakeNvml.healthyH100().toBuilder().initError(NvmlReturn.DRIVER_NOT_LOADED).build(),
            "gpu-count", HealthState.HEALTH_STATE_UNKNOWN, SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION, Needs.NOTHING));
  }

  @org.junit.jupiter.api.Test
  void gpuVanishingAfterTheFirstInventoryOfTheBootIsUnhealthyEvenAcrossAgentRestarts() {
    assertThat(run(FakeNvml.healthyH100()).get("gpu-count").getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    CheckResult r = run(gpu(7, g -> g.vanished(true))).get("gpu-count");
    assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(r.getReasons(0).getMessage()).contains("NVML counts 7 GPUs, expected 8 (first inventory on this boot)");
    assertThat(r.getReasons(0).getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("scenarios")
  void checkJudgesTheInjectedFault(FakeDriverProfile profile, String name, FakeNvmlState state, String check,
      HealthState expected, SuggestedAction action) {
    Map<String, CheckResult> results = run(profile, state);
    assertThat(results.keySet()).containsAll(BuiltInChecks.NAMES);
    if (check.equals("*")) {
      assertThat(results.values()).allSatisfy(r -> assertThat(r.getState()).as(r.getCheck() + ": " + r.getReasonsList())
          .isEqualTo(HealthState.HEALTH_STATE_HEALTHY));
      return;
    }
    CheckResult r = results.get(check);
    assertThat(r.getState()).as("%s: %s", check, r.getReasonsList()).isEqualTo(expected);
    if (action != null) {
      assertThat(r.getReasonsList()).extracting(Reason::getAction).contains(action);
      assertThat(r.getReasons(0).getComponent().getGpuUuid().isEmpty() && !check.equals("gpu-count")).isFalse();
    }
    List<String> others = results.values().stream()
        .filter(x -> !x.getCheck().equals(check) && x.getState() != HealthState.HEALTH_STATE_HEALTHY)
        .map(x -> x.getCheck() + "=" + x.getState()).toList();
    if (!name.equals("gpu lost") && !name.equals("driver not loaded")) {
      assertThat(others).as("only %s reacts to %s", check, name).isEmpty();
    }
  }
}
