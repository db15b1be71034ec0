package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.gpuwarden.proto.v1.GateState;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class GateFormatTest {
  @Test
  void timesAreUtcToTheSecondAndUnsetIsADash() {
    assertThat(GateFormat.time(GateFormat.timestamp(Instant.parse("2024-12-31T23:59:59.999Z")))).isEqualTo("2024-12-31 23:59:59");
    assertThat(GateFormat.time(Timestamp.getDefaultInstance())).isEqualTo("-");
  }

  @Test
  void durationsUseTheLargestWholeUnit() {
    assertThat(GateFormat.duration(Duration.ofMinutes(10))).isEqualTo("10m");
    assertThat(GateFormat.duration(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(GateFormat.duration(Duration.ofHours(48))).isEqualTo("2d");
    assertThat(GateFormat.duration(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Test
  void statesLoseTheirPrefix() {
    assertThat(GateFormat.state(GateState.GATE_STATE_QUARANTINED)).isEqualTo("QUARANTINED");
    assertThat(GateFormat.state(GateState.GATE_STATE_UNSPECIFIED)).isEqualTo("-");
  }
}
