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

  @Test
  void parsesEveryDocumentedStateAndRateForm() {
    assertThat(InfinibandFormats.numbered("1: DOWN")).isEqualTo(new InfinibandFormats.NumberedState(1, "DOWN"));
    assertThat(InfinibandFormats.numbered("5: ACTIVE_DEFER").name()).isEqualTo("ACTIVE_DEFER");
    assertThat(InfinibandFormats.numbered("3: Disabled")).isEqualTo(new InfinibandFormats.NumberedState(3, "Disabled"));
    assertThat(InfinibandFormats.numbered("4: PortConfigurationTraining").number()).isEqualTo(4);
    assertThat(InfinibandFormats.numbered("8: <unknown>").name()).isEqualTo("<unknown>");
    assertThat(InfinibandFormats.rate("56 Gb/sec (4X FDR)").bitsPerSecond()).isEqualTo(56_000_000_000L);
    assertThat(InfinibandFormats.rate("12.5 Gb/sec").bitsPerSecond()).isEqualTo(12_500_000_000L);
    assertThat(InfinibandFormats.rate("200 Gb/sec (4X HDR)").bitsPerSecond()).isEqualTo(200_000_000_000L);
    assertThat(InfinibandFormats.rate("10 Gb/sec (4X SDR)").bitsPerSecond()).isEqualTo(10_000_000_000L);
  }

  @Test
  void everyNarrowCounterOfTheReferenceTableSaturatesAtItsOwnWidth() {
    java.util.Map<String, Integer> bits = java.util.Map.ofEntries(
        java.util.Map.entry("symbol_error", 16), java.util.Map.entry("link_error_recovery", 8),
        java.util.Map.entry("link_downed", 8), java.util.Map.entry("port_rcv_errors", 16),
        java.util.Map.entry("port_rcv_remote_physical_errors", 16), java.util.Map.entry("port_rcv_switch_relay_errors", 16),
        java.util.Map.entry("port_xmit_discards", 16), java.util.Map.entry("port_xmit_constraint_errors", 8),
        java.util.Map.entry("port_rcv_constraint_errors", 8), java.util.Map.entry("local_link_integrity_errors", 4),
        java.util.Map.entry("excessive_buffer_overrun_errors", 4), java.util.Map.entry("VL15_dropped", 16),
        java.util.Map.entry("port_xmit_wait", 32));
    bits.forEach((name, width) -> {
      long max = (1L << width) - 1;
      assertThat(InfinibandFormats.saturated(name, max)).as(name).isTrue();
      assertThat(InfinibandFormats.saturated(name, max - 1)).as(name).isFalse();
    });
    assertThat(InfinibandFormats.COUNTER_BITS).isEqualTo(bits);
    assertThat(InfinibandFormats.countsWords("port_xmit_data")).isTrue();
    assertThat(InfinibandFormats.countsWords("port_xmit_packets")).isFalse();
  }
}
