package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InfinibandFormatsTest {
  @Test
  void parsesStatesAndEveryRateForm() {
    assertThat(InfinibandFormats.numbered("4: ACTIVE\n")).isEqualTo(new InfinibandFormats.NumberedState(4, "ACTIVE"));
    assertThat(InfinibandFormats.numbered("5: LinkUp")).isEqualTo(new InfinibandFormats.NumberedState(5, "LinkUp"));
    assertThat(InfinibandFormats.numbered("7: Phy Test").name()).isEqualTo("Phy Test");
    assertThat(InfinibandFormats.rate("400 Gb/sec (4X NDR)\n").bitsPerSecond()).isEqualTo(400_000_000_000L);
    assertThat(InfinibandFormats.rate("2.5 Gb/sec (1X SDR)").bitsPerSecond()).isEqualTo(2_500_000_000L);
    assertThat(InfinibandFormats.rate("12.5 Gb/sec (1X FDR10)").bitsPerSecond()).isEqualTo(12_500_000_000L);
    assertThat(InfinibandFormats.rate("56 Gb/sec (4X FDR)").text()).isEqualTo("56 Gb/sec (4X FDR)");
    assertThat(InfinibandFormats.rate("800 Gb/sec (4X XDR)").bitsPerSecond()).isEqualTo(800_000_000_000L);
  }

  @Test
  void refusesGarbageQuotingIt() {
    assertThatThrownBy(() -> InfinibandFormats.numbered("ACTIVE")).hasMessageContaining("'ACTIVE'");
    assertThatThrownBy(() -> InfinibandFormats.rate("fast")).hasMessageContaining("'fast'");
    assertThatThrownBy(() -> InfinibandFormats.counter("N/A (no PMA)")).hasMessageContaining("N/A (no PMA)");
  }

  @Test
  void narrowCountersSaturateAtAllOnesAndWideOnesDoNot() {
    assertThat(InfinibandFormats.saturated("symbol_error", 65535)).isTrue();
    assertThat(InfinibandFormats.saturated("symbol_error", 65534)).isFalse();
    assertThat(InfinibandFormats.saturated("link_downed", 255)).isTrue();
    assertThat(InfinibandFormats.saturated("local_link_integrity_errors", 15)).isTrue();
    assertThat(InfinibandFormats.saturated("port_xmit_data", 65535)).isFalse();
    assertThat(InfinibandFormats.counter("18446744073709551615")).isEqualTo(-1L);
  }
}
