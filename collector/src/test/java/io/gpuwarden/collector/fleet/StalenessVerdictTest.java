package io.gpuwarden.collector.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StalenessVerdictTest {
  private final StalenessVerdict rule = new StalenessVerdict(Duration.ofSeconds(10));
  private final Instant now = Instant.parse("2026-11-22T10:00:00Z");

  @Test
  void nodeWithoutAnyBatchIsUnknown() {
    var j = rule.judge(null, List.of(), now);
    assertThat(j.state()).isEqualTo(HealthState.HEALTH_STATE_UNKNOWN);
    assertThat(j.reasons().get(0).getMessage()).isEqualTo("no telemetry received yet");
  }

  @Test
  void freshNodeWithoutChecksIsHealthy() {
    var j = rule.judge(now.minusSeconds(10), List.of(), now);
    assertThat(j.state()).isEqualTo(HealthState.HEALTH_STATE_HEALTHY);
    assertThat(j.reasons()).isEmpty();
  }

  @Test
  void nodeSilentLongerThanTheLimitIsUnknownWithItsAge() {
    var j = rule.judge(now.minusMillis(12_300), List.of(unhealthy()), now);
    assertThat(j.state()).isEqualTo(HealthState.HEALTH_STATE_UNKNOWN);
    assertThat(j.reasons()).singleElement().satisfies(r -> {
      assertThat(r.getCheck()).isEqualTo("staleness");
      assertThat(r.getMessage()).isEqualTo("no telemetry for 12.3 s (stale after 10.0 s)");
    });
  }

  @Test
  void freshNodeTakesTheWorstCheckStateAndItsReasons() {
    CheckResult degraded = CheckResult.newBuilder().setCheck("a").setState(HealthState.HEALTH_STATE_DEGRADED)
        .addReasons(Reason.newBuilder().setCheck("a").setMessage("slow")).build();
    CheckResult healthy = CheckResult.newBuilder().setCheck("b").setState(HealthState.HEALTH_STATE_HEALTHY).build();
    var j = rule.judge(now, List.of(healthy, degraded, unhealthy()), now);
    assertThat(j.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(j.reasons()).extracting(Reason::getMessage).containsExactly("slow", "xid 79");
  }

  private static CheckResult unhealthy() {
    return CheckResult.newBuilder().setCheck("xid").setState(HealthState.HEALTH_STATE_UNHEALTHY)
        .addReasons(Reason.newBuilder().setCheck("xid").setMessage("xid 79")).build();
  }
}
