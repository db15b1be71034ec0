package io.gpuwarden.agent.uplink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CollectorTargetsTest {
  @Test
  void oneAddressIsPassedThroughAndSeveralBecomeAFailoverTarget() {
    assertThat(CollectorTargets.channelTarget("collector:7700")).isEqualTo("collector:7700");
    assertThat(CollectorTargets.channelTarget("a:7700, b:7701")).isEqualTo("gpuwarden-failover:///a:7700,b:7701");
    assertThat(CollectorTargets.parse("a:1,[::1]:2")).containsExactly("a:1", "[::1]:2");
  }

  @Test
  void badAddressesAreRefusedNamingThem() {
    assertThatThrownBy(() -> CollectorTargets.parse("a:7700,b")).hasMessageContaining("'b' is not HOST:PORT");
    assertThatThrownBy(() -> CollectorTargets.parse("a:x")).hasMessageContaining("'a:x'");
  }
}
