package io.gpuwarden.cli.gate;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.GateState;
import org.junit.jupiter.api.Test;

class GateFormatTest {
  @Test
  void statesLoseTheirPrefix() {
    assertThat(GateFormat.state(GateState.GATE_STATE_QUARANTINED)).isEqualTo("QUARANTINED");
    assertThat(GateFormat.state(GateState.GATE_STATE_UNSPECIFIED)).isEqualTo("-");
  }
}
