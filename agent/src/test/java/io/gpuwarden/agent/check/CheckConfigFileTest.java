package io.gpuwarden.agent.check;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.check.xid.XidClearing;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckConfigFileTest {
  @TempDir
  Path dir;

  private CheckConfigFile.Loaded load(String text) throws Exception {
    Path f = dir.resolve("checks.properties");
    Files.writeString(f, text);
    return CheckConfigFile.load(f);
  }

  @Test
  void emptyFileKeepsEveryDefault() throws Exception {
    CheckConfigFile.Loaded l = load("# nothing\n");
    assertThat(l.checks()).isEqualTo(CheckConfig.defaults());
    assertThat(l.xidPolicy().rule(79).state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void thresholdsXidOverridesAndIgnoreListAreApplied() throws Exception {
    CheckConfigFile.Loaded l = load("""
        expected-gpus = 8
        disabled = persistence-mode, fabric
        xid.ignore = 43, 45
        xid.13 = DEGRADED, RESET_GPU, GPU_RESET
        pcie.replays-per-minute = 20
        clock-slowdown.window = 5m
        persistence-mode.off-state = HEALTHY
        """);
    assertThat(l.checks().expectedGpus()).hasValue(8);
    assertThat(l.checks().disabled()).containsExactlyInAnyOrder("persistence-mode", "fabric");
    assertThat(l.checks().pcieReplaysPerMinute()).isEqualTo(20);
    assertThat(l.checks().slowdownWindow()).isEqualTo(Duration.ofMinutes(5));
    assertThat(l.checks().persistenceOffState()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(l.xidPolicy().ignores(45)).isTrue();
    assertThat(l.xidPolicy().rule(13).state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(l.xidPolicy().rule(13).action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_RESET_GPU);
    assertThat(l.xidPolicy().rule(13).clearing()).isEqualTo(XidClearing.GPU_RESET);
    assertThat(l.xidPolicy().rule(13).mnemonic()).isEqualTo("GR_EXCEPTION");
  }

  @Test
  void typosAndBadValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> load("pcie.replays-per-minut = 3\n")).hasMessageContaining("unknown key 'pcie.replays-per-minut'");
    assertThatThrownBy(() -> load("ecc.retired-pages-limit = lots\n")).hasMessageContaining("ecc.retired-pages-limit = 'lots'");
    assertThatThrownBy(() -> load("xid.13 = DEGRADED\n")).hasMessageContaining("expected STATE, ACTION, CLEARING");
    assertThatThrownBy(() -> load("xid.8 = UNHEALTHY, RESET_GPU, EVENT_ONLY\n")).hasMessageContaining("event-only");
  }
}
