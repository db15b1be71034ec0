package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.source.infiniband.CounterDelta.Kind;
import org.junit.jupiter.api.Test;

class CounterDeltaTest {
  @Test
  void growthBelowTheMaximumIsExact() {
    assertThat(CounterDelta.between("symbol_error", 10, 17)).isEqualTo(new CounterDelta(Kind.EXACT, 7));
    assertThat(CounterDelta.between("symbol_error", 10, 10)).isEqualTo(new CounterDelta(Kind.EXACT, 0));
    assertThat(CounterDelta.between("symbol_error", 10, 17).exact()).isTrue();
  }

  @Test
  void reachingTheMaximumIsOnlyALowerBound() {
    assertThat(CounterDelta.between("symbol_error", 65530, 65535)).isEqualTo(new CounterDelta(Kind.AT_LEAST, 5));
    assertThat(CounterDelta.between("link_downed", 250, 255)).isEqualTo(new CounterDelta(Kind.AT_LEAST, 5));
    assertThat(CounterDelta.between("local_link_integrity_errors", 3, 15).exact()).isFalse();
  }

  @Test
  void aCounterStuckAtItsMaximumGrewByAnUnknownAmountNotZeroForSure() {
    CounterDelta d = CounterDelta.between("link_downed", 255, 255);
    assertThat(d.kind()).isEqualTo(Kind.AT_LEAST);
    assertThat(d.increase()).isZero();
  }

  @Test
  void aCounterThatWentDownWasResetAndNeverGivesANegativeDelta() {
    assertThat(CounterDelta.between("symbol_error", 65535, 2)).isEqualTo(new CounterDelta(Kind.RESET, 2));
    assertThat(CounterDelta.between("port_xmit_data", 1_000_000, 0)).isEqualTo(new CounterDelta(Kind.RESET, 0));
  }

  @Test
  void wideCountersAtANarrowMaximumAreExactAndUnsigned64BitValuesWork() {
    assertThat(CounterDelta.between("port_xmit_data", 65000, 65535).exact()).isTrue();
    assertThat(CounterDelta.between("port_rcv_data", Long.MAX_VALUE, Long.MIN_VALUE)) // 2^63 - 1 -> 2^63
        .isEqualTo(new CounterDelta(Kind.EXACT, 1));
    assertThat(CounterDelta.between("port_rcv_data", 5, -1).increase()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void refusesANegativeIncrease() {
    assertThatThrownBy(() -> new CounterDelta(Kind.EXACT, -1)).hasMessageContaining("-1");
  }
}
