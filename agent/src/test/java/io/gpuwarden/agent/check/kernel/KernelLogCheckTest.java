package io.gpuwarden.agent.check.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.classify.ClassifierRules;
import io.gpuwarden.agent.classify.LogClassifier;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLogCheckTest {
  private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");
  private final LogClassifier classifier =
      new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()), pci -> Optional.empty());

  @TempDir
  Path dir;

  private Event event(String message, Instant t) {
    return classifier.classify(message, t).orElseThrow();
  }

  private static HostSnapshot host(String boot, Instant t, Event... events) {
    return new HostSnapshot(t, boot, List.of(), List.of(), OptionalInt.empty(), List.of(events), Optional.empty());
  }

  private static final String AER_FATAL =
      "pcieport 0000:00:01.0: AER: Uncorrected (Fatal) error received: 0000:3b:00.0";
  private static final String AER_NONFATAL =
      "pcieport 0000:00:01.0: AER: Uncorrected (Non-Fatal) error received: 0000:3b:00.0";
  private static final String AER_CORRECTED = "pcieport 0000:00:01.0: AER: Corrected error received: 0000:3b:00.0";

  @Test
  void criticalMatchIsUnhealthyUntilRebootAndSurvivesAnAgentRestart() {
    StateStore state = FileStateStore.open(dir);
    KernelLogCheck check = new KernelLogCheck(Duration.ofHours(1), state);
    List<Finding> f = check.evaluate(host("boot-1", T0, event(AER_FATAL, T0)));
    assertThat(f).singleElement().satisfies(x -> {
      assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(x.component().getPciBusId()).isEqualTo("00000000:3B:00.0");
      assertThat(x.message()).contains("1 time").contains("clears on reboot");
    });
    // days later, and after a restart of the agent (a new check over the same state directory)
    KernelLogCheck restarted = new KernelLogCheck(Duration.ofHours(1), FileStateStore.open(dir));
    assertThat(restarted.evaluate(host("boot-1", T0.plus(Duration.ofDays(3)))))
        .extracting(Finding::state).containsExactly(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(restarted.evaluate(host("boot-2", T0.plus(Duration.ofDays(3))))).isEmpty();
  }

  @Test
  void errorMatchIsDegradedForTheHoldAfterItsLastOccurrenceAndRepeatsAreCounted() {
    KernelLogCheck check = new KernelLogCheck(Duration.ofHours(1), FileStateStore.open(dir));
    check.evaluate(host("b", T0, event(AER_NONFATAL, T0)));
    List<Finding> f = check.evaluate(host("b", T0.plusSeconds(1800), event(AER_NONFATAL, T0.plusSeconds(1800))));
    assertThat(f).singleElement().satisfies(x -> {
      assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(x.message()).contains("2 times").contains("clears after 1 h without another");
    });
    assertThat(check.evaluate(host("b", T0.plusSeconds(1800 + 3599)))).hasSize(1);
    assertThat(check.evaluate(host("b", T0.plusSeconds(1800 + 3601)))).isEmpty();
  }

  @Test
  void warningsAndXidsAreNotThisChecksBusiness() {
    KernelLogCheck check = new KernelLogCheck(Duration.ofHours(1), FileStateStore.open(dir));
    Event xid = event("NVRM: Xid (PCI:0000:3b:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.", T0);
    assertThat(check.evaluate(host("b", T0, event(AER_CORRECTED, T0), xid))).isEmpty();
  }

  private int judged;

  /** Judges {@code lines} logged at T0 with a check of its own (fresh state). */
  private List<Finding> judge(String... lines) {
    KernelLogCheck check = new KernelLogCheck(Duration.ofHours(1), FileStateStore.open(dir.resolve("judge-" + judged++)));
    return check.evaluate(host("b", T0, java.util.Arrays.stream(lines).map(l -> event(l, T0)).toArray(Event[]::new)));
  }

  @Test
  void aHungTaskDegradesTheNodeForTheHold() {
    assertThat(judge("INFO: task python:1234 blocked for more than 120 seconds.")).singleElement().satisfies(f -> {
      assertThat(f.state()).as("hung task").isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(f.message()).contains("clears after 1 h");
    });
  }

  @Test
  void aConnectxWhoseHealthRecoveryFailedIsUnhealthyUntilReboot() {
    assertThat(judge("mlx5_core 0000:61:00.1: mlx5_health_try_recover:381:(pid 1): health recovery flow aborted, PCI reads"
        + " still not working")).singleElement().satisfies(f -> {
          assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
          assertThat(f.component().getPciBusId()).isEqualTo("00000000:61:00.1");
          assertThat(f.message()).contains("clears on reboot");
        });
    assertThat(judge("mlx5_core 0000:1a:00.0: poll_health:800:(pid 0): Fatal error 1 detected"))
        .extracting(Finding::state).as("health trouble the recovery may still fix").containsExactly(HealthState.HEALTH_STATE_DEGRADED);
  }

  @Test
  void uncorrectedMemoryErrorsDegradeTheNodeAndCorrectedOnesAloneDoNot() {
    assertThat(judge("EDAC MC0: 1 CE memory read error on CPU_SrcID#0_MC#0_Chan#0_DIMM#0 (channel:0 slot:0 page:0x52f3e"
        + " offset:0x0 grain:32 syndrome:0x0)", "mce: [Hardware Error]: Machine check events logged",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 17: 8c00004000010090",
        "{1}[Hardware Error]: event severity: corrected")).isEmpty();
    assertThat(judge("EDAC MC0: 1 UE memory read error on CPU_SrcID#0_MC#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x1af4c6e"
        + " offset:0x400 grain:32)")).singleElement().satisfies(f -> {
          assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
          assertThat(f.component().getKind().name()).isEqualTo("COMPONENT_KIND_NODE");
        });
  }

  @Test
  void mediumErrorsDegradeTheNode() {
    assertThat(judge("critical medium error, dev sdb, sector 1953525160 op 0x0:(READ) flags 0x80700 phys_seg 1 prio class 2",
        "Buffer I/O error on dev sdb1, logical block 244190208, async page read"))
        .extracting(Finding::state).containsExactly(HealthState.HEALTH_STATE_DEGRADED, HealthState.HEALTH_STATE_DEGRADED);
  }

  @Test
  void theCurrentAerWordingIsJudgedLikeTheOld() {
    assertThat(judge("pcieport 0000:00:01.0: AER: Uncorrectable (Fatal) error message received from 0000:3b:00.0"))
        .singleElement().satisfies(f -> {
          assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
          assertThat(f.component().getPciBusId()).isEqualTo("00000000:3B:00.0");
        });
    assertThat(judge("pcieport 0000:00:1c.0: AER: Multiple Uncorrectable (Non-Fatal) error message received from 0000:73:00.1"))
        .extracting(Finding::state).containsExactly(HealthState.HEALTH_STATE_DEGRADED);
  }

  @Test
  void aGpuFallenOffTheBusInTheCurrentWordingIsUnhealthy() {
    assertThat(judge("NVRM: The NVIDIA GPU 0000:3b:00.0 (PCI ID: 10de:2330) installed in this system has fallen off the bus"
        + " and is not responding to commands.")).singleElement().satisfies(f -> {
          assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
          assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE);
          assertThat(f.component().getKind().name()).isEqualTo("COMPONENT_KIND_GPU");
          assertThat(f.component().getPciBusId()).isEqualTo("00000000:3B:00.0");
        });
  }
}
