package io.gpuwarden.agent.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.FakeNvml;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.TestClock;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.fake.FakeDriverProfile;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checks that need time (error rates) or NVML events (Xid), through the fake library of every
 * driver profile: a clock the test moves for rates, and Xid events injected into the fake while the
 * monitor waits for them.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(FakeDriverProfile.class)
class RateAndEventChecksThroughFakeNvmlTest {
  @TempDir
  Path dir;

  private final TestClock now = TestClock.at(Instant.parse("2026-11-22T10:00:00Z"));
  private final Clock clock = now;
  private HostMonitor monitor;
  private final FakeDriverProfile profile;
  private FakeNvmlState current;

  RateAndEventChecksThroughFakeNvmlTest(FakeDriverProfile profile) {
    this.profile = profile;
    this.current = healthy();
  }

  private FakeNvmlState healthy() {
    return FakeNvml.example("h100-8gpu-healthy", profile);
  }

  @BeforeEach
  void bootId() throws Exception {
    Files.writeString(dir.resolve("boot_id"), "boot-1\n");
  }

  @AfterEach
  void close() {
    if (monitor != null) {
      monitor.close();
    }
  }

  private HostMonitor open(boolean events) {
    AgentConfig config = AgentConfig.builder().nodeId("n1").nvmlLibrary(FakeNvml.library(profile))
        .bootIdFile(dir.resolve("boot_id")).stateDir(dir.resolve("state")).sysfsRoot(dir.resolve("no-sysfs")).logs(LogConfig.none()).build();
    monitor = HostMonitor.open(config, clock, events, () -> {});
    return monitor;
  }

  private Map<String, CheckResult> cycle() {
    return monitor.cycle().results().stream().collect(Collectors.toMap(CheckResult::getCheck, r -> r));
  }

  @Test
  void nvlinkErrorRateAboveTheLimitIsDegradedBelowItHealthy() {
    FakeNvml.write(healthy());
    open(false);
    cycle();
    now.set(now.get().plusSeconds(30));
    FakeNvml.write(healthy().toBuilder().gpu(2, g -> g.nvlinkErrors(4, NvlinkErrorCounter.DL_CRC_FLIT, 60_000)).build());
    CheckResult crc = cycle().get("nvlink");
    assertThat(crc.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(crc.getReasons(0).getMessage()).contains("NVLink 4").contains("2000 CRC errors/s");
    assertThat(crc.getReasons(0).getComponent().getNvlink()).isEqualTo(4);

    now.set(now.get().plusSeconds(120));
    assertThat(cycle().get("nvlink").getState()).as("no new errors for two minutes").isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
  }

  @Test
  void pcieReplayRateAboveEightPerMinuteIsDegraded() {
    FakeNvml.write(healthy());
    open(false);
    cycle();
    now.set(now.get().plusSeconds(60));
    FakeNvml.write(healthy().toBuilder().gpu(1, g -> g.pcieReplayCounter(5)).build());
    assertThat(cycle().get("pcie").getState()).as("5/min is within DCGM's 8/min").isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    now.set(now.get().plusSeconds(30));
    FakeNvml.write(healthy().toBuilder().gpu(1, g -> g.pcieReplayCounter(100)).build());
    CheckResult r = cycle().get("pcie");
    assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(r.getReasons(0).getMessage()).contains("PCIe replays at");
  }


  /** Appends an Xid event to the state file; event ids must grow, so events accumulate. */
  private void injectXid(int gpu, int xid) {
    current = current.toBuilder().xid(current.nextEventId(), gpu, xid).build();
    FakeNvml.write(current);
  }

  private CheckResult xidAfterEvent() {
    AtomicReference<CheckResult> last = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      HostMonitor.Cycle c = monitor.cycle();
      last.set(c.results().stream().filter(r -> r.getCheck().equals("xid")).findFirst().orElseThrow());
      return c.snapshot().events().stream().anyMatch(e -> e.hasXid()) || last.get().getState() != HealthState.HEALTH_STATE_HEALTHY;
    });
    return last.get();
  }

  @Test
  void resetClassXidFromNvmlEventsIsUnhealthyWithReset() {
    FakeNvml.write(healthy());
    open(true);
    await().atMost(Duration.ofSeconds(5)).until(() -> monitor.xidEventGpus() == 8);
    injectXid(3, 48);
    CheckResult r = xidAfterEvent();
    assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(r.getReasons(0).getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_RESET_GPU);
    assertThat(r.getReasons(0).getComponent().getGpuIndex()).isEqualTo(3);
  }

  @Test
  void nvlink5XidIsDegradedAndApplicationXidLeavesTheGpuHealthy() {
    FakeNvml.write(healthy());
    open(true);
    await().atMost(Duration.ofSeconds(5)).until(() -> monitor.xidEventGpus() == 8);
    injectXid(1, 13);
    HostMonitor.Cycle[] seen = new HostMonitor.Cycle[1];
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      seen[0] = monitor.cycle();
      return seen[0].snapshot().events().stream().anyMatch(e -> e.hasXid() && e.getXid().getXid() == 13);
    });
    assertThat(seen[0].results().stream().filter(r -> r.getCheck().equals("xid")).findFirst().orElseThrow().getState())
        .isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(seen[0].forward()).anySatisfy(e -> assertThat(e.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_RESTART_APPLICATION));

    injectXid(1, 146);
    assertThat(xidAfterEvent().getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
  }

  @Test
  void gpusWithoutXidEventSupportRegisterNothingAndStayHealthy() {
    FakeNvmlState noEvents = healthy();
    FakeNvmlState.Builder b = noEvents.toBuilder();
    for (int i = 0; i < 8; i++) {
      b.gpu(i, g -> g.supportedEventTypes(0));
    }
    FakeNvml.write(b.build());
    open(true);
    List<CheckResult> results = monitor.cycle().results();
    assertThat(monitor.xidEventGpus()).isZero();
    assertThat(results).filteredOn(r -> r.getCheck().equals("xid")).singleElement()
        .satisfies(r -> assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY));
  }
}
