package io.gpuwarden.agent.check.infiniband;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InfinibandErrorRateCheckTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  private final InfinibandErrorRateCheck check =
      new InfinibandErrorRateCheck(InfinibandCheckConfig.defaults(), List::of);

  private static InfinibandPortSample port(Map<String, Long> counters) {
    return InfinibandPortSample.newBuilder().setHca("mlx5_1").setPort(1).setState(4).setStateName("ACTIVE")
        .setPhysState(5).setPhysStateName("LinkUp").putAllCounters(counters).build();
  }

  private List<Finding> at(Duration sinceT0, String counter, long value) {
    return check.evaluate(T0.plus(sinceT0), List.of(port(Map.of(counter, value))));
  }

  @Test
  void errorsBelowTheLimitWithinTheHourAreHealthy() {
    at(Duration.ZERO, "symbol_error", 100);
    assertThat(at(Duration.ofMinutes(10), "symbol_error", 105)).isEmpty();
    assertThat(at(Duration.ofMinutes(20), "symbol_error", 109)).isEmpty();
  }

  @Test
  void errorsAtTheLimitWithinTheHourAreDegradedUntilTheyAgeOut() {
    at(Duration.ZERO, "symbol_error", 100);
    at(Duration.ofMinutes(10), "symbol_error", 105);
    assertThat(at(Duration.ofMinutes(20), "symbol_error", 110)).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(f.component().getHca()).isEqualTo("mlx5_1");
      assertThat(f.message()).contains("mlx5_1 port 1 symbol_error grew by 10 in the last 60 min (limit 10)");
    });
    assertThat(at(Duration.ofMinutes(75), "symbol_error", 110)).as("the 10:10 step aged out").isEmpty();
  }

  @Test
  void everyWatchedCounterHasItsOwnLimit() {
    at(Duration.ZERO, "link_error_recovery", 0);
    assertThat(at(Duration.ofMinutes(5), "link_error_recovery", 3)).hasSize(1);
    at(Duration.ZERO, "local_link_integrity_errors", 1);
    assertThat(at(Duration.ofMinutes(5), "local_link_integrity_errors", 3)).isEmpty();
    at(Duration.ZERO, "excessive_buffer_overrun_errors", 0);
    assertThat(at(Duration.ofMinutes(5), "excessive_buffer_overrun_errors", 3)).hasSize(1);
    at(Duration.ZERO, "port_rcv_errors", 0);
    assertThat(at(Duration.ofMinutes(5), "port_rcv_errors", 10)).hasSize(1);
    at(Duration.ZERO, "port_xmit_discards", 0);
    assertThat(at(Duration.ofMinutes(5), "port_xmit_discards", 1000)).as("not watched").isEmpty();
  }

  @Test
  void aClearedCounterStartsOverWithoutANegativeRate() {
    at(Duration.ZERO, "symbol_error", 60000);
    assertThat(at(Duration.ofMinutes(1), "symbol_error", 2)).isEmpty();
    assertThat(at(Duration.ofMinutes(2), "symbol_error", 4)).isEmpty();
  }

  @Test
  void aJumpToSaturationIsALowerBoundAndAStuckCounterIsReportedAsBlind() {
    at(Duration.ZERO, "local_link_integrity_errors", 14);
    assertThat(at(Duration.ofMinutes(1), "local_link_integrity_errors", 15)).singleElement()
        .satisfies(f -> assertThat(f.message()).contains("is saturated at 15"));
    at(Duration.ZERO, "symbol_error", 65000);
    assertThat(at(Duration.ofMinutes(1), "symbol_error", 65535)).singleElement()
        .satisfies(f -> assertThat(f.message()).contains("grew by at least 535"));
  }

  @Test
  void theSaturatedFixtureIsDegradedOnItsOnePort() {
    List<InfinibandPortSample> ports = new InfinibandSysfs(SysfsFixtures.fixture("saturated")).sample(T0);
    assertThat(check.evaluate(T0, ports)).hasSize(4).allSatisfy(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(f.component().getHca()).isEqualTo("mlx5_2");
      assertThat(f.message()).contains("saturated");
    });
    assertThat(check.evaluate(T0, new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr")).sample(T0))).isEmpty();
  }

  @Test
  void theChecksAreRegisteredInOrderWithUniqueNames() {
    List<HealthCheck> all = InfinibandChecks.all(InfinibandCheckConfig.defaults(), List::of);
    assertThat(all).extracting(HealthCheck::name).containsExactly("infiniband-port", "infiniband-flap", "infiniband-errors");
  }

  @Test
  void theConfigRefusesContradictoryFlapSettings() {
    InfinibandCheckConfig d = InfinibandCheckConfig.defaults();
    assertThatThrownBy(() -> new InfinibandCheckConfig(d.expectedPorts(), d.expectedRateGbps(), Duration.ofMinutes(10), 3,
        1, Duration.ofMinutes(30), d.errorWindow(), d.errorLimits())).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new InfinibandCheckConfig(d.expectedPorts(), d.expectedRateGbps(), Duration.ofMinutes(10), 1,
        3, Duration.ofMinutes(5), d.errorWindow(), d.errorLimits())).hasMessageContaining("flapStickyPeriod");
    assertThat(d.errorLimits()).containsEntry("symbol_error", 10L).hasSize(5);
  }
}
