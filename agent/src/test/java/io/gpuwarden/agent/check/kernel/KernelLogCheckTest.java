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
}
