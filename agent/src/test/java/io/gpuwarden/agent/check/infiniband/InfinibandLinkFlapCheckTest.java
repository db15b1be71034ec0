package io.gpuwarden.agent.check.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rewrites link_downed in a copy of the healthy fixture between reads, at injected instants. */
class InfinibandLinkFlapCheckTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  @TempDir
  Path tmp;

  private Path root;
  private InfinibandSysfs sysfs;
  private InfinibandLinkFlapCheck check;

  @BeforeEach
  void setUp() {
    root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    sysfs = new InfinibandSysfs(root);
    check = new InfinibandLinkFlapCheck(InfinibandCheckConfig.defaults(), List::of);
  }

  private List<Finding> at(Duration sinceT0, long linkDowned) {
    SysfsFixtures.writeCounter(root, "mlx5_4", "link_downed", linkDowned);
    Instant now = T0.plus(sinceT0);
    return check.evaluate(now, sysfs.sample(now));
  }

  private static HealthState state(List<Finding> findings) {
    assertThat(findings).allSatisfy(f -> {
      assertThat(f.component().getHca()).isEqualTo("mlx5_4");
      assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC);
    });
    return findings.isEmpty() ? HealthState.HEALTH_STATE_HEALTHY : findings.get(0).state();
  }

  @Test
  void linkDownsBeforeTheAgentWatchedAreABaselineNotFlaps() {
    assertThat(at(Duration.ZERO, 7)).isEmpty();
    assertThat(at(Duration.ofMinutes(1), 7)).isEmpty();
  }

  @Test
  void oneFlapIsDegradedAndRecoversOnlyAfterThirtyQuietMinutes() {
    at(Duration.ZERO, 0);
    List<Finding> flap = at(Duration.ofMinutes(1), 1);
    assertThat(state(flap)).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(flap.get(0).message()).contains("mlx5_4 port 1 link went down 1 time(s)", "healthy again at 2026-11-22T10:31:00Z");
    assertThat(state(at(Duration.ofMinutes(20), 1))).as("sticky after the window").isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(state(at(Duration.ofMinutes(30).plusSeconds(59), 1))).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(at(Duration.ofMinutes(31), 1)).as("30 min after the last flap").isEmpty();
    assertThat(at(Duration.ofMinutes(40), 1)).isEmpty();
  }

  @Test
  void threeFlapsWithinTenMinutesAreUnhealthyAndStayUnhealthyWhileSticky() {
    at(Duration.ZERO, 0);
    assertThat(state(at(Duration.ofMinutes(1), 1))).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(state(at(Duration.ofMinutes(3), 2))).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(state(at(Duration.ofMinutes(5), 3))).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(state(at(Duration.ofMinutes(20), 3))).as("window passed, episode still sticky")
        .isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
    assertThat(at(Duration.ofMinutes(35), 3)).isEmpty();
  }

  @Test
  void aNewFlapDuringTheStickyPeriodRestartsIt() {
    at(Duration.ZERO, 0);
    at(Duration.ofMinutes(1), 1);
    assertThat(state(at(Duration.ofMinutes(25), 2))).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(state(at(Duration.ofMinutes(40), 2))).as("30 min not yet passed since 10:25")
        .isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(at(Duration.ofMinutes(55), 2)).isEmpty();
  }

  @Test
  void severalFlapsBetweenTwoReadsCountTogether() {
    at(Duration.ZERO, 4);
    assertThat(state(at(Duration.ofMinutes(1), 7))).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
  }

  @Test
  void aClearedCounterCountsOnlyItsNewValueNeverANegativeStep() {
    at(Duration.ZERO, 9);
    assertThat(at(Duration.ofMinutes(1), 0)).as("cleared to 0: no flap").isEmpty();
    assertThat(at(Duration.ofMinutes(2), 0)).isEmpty();
  }

  @Test
  void aCounterClearedAndThenIncrementedCountsTheFlapsSinceTheReset() {
    at(Duration.ZERO, 9);
    List<Finding> f = at(Duration.ofMinutes(1), 2);
    assertThat(state(f)).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
    assertThat(f.get(0).message()).contains("went down at least 2 time(s)");
  }

  @Test
  void aSaturatedLinkDownedCannotCountFlapsAndIsDegraded() {
    List<InfinibandPortSample> ports = new InfinibandSysfs(SysfsFixtures.fixture("saturated")).sample(T0);
    assertThat(check.evaluate(T0, ports)).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(f.component().getHca()).isEqualTo("mlx5_2");
      assertThat(f.message()).contains("link_downed is saturated at 255");
    });
  }

  @Test
  void reachingSaturationCountsTheVisibleFlapsAsALowerBound() {
    at(Duration.ZERO, 250);
    List<Finding> f = at(Duration.ofMinutes(1), 255);
    assertThat(f).extracting(Finding::message)
        .anySatisfy(m -> assertThat(m).contains("at least 5 time(s)"))
        .anySatisfy(m -> assertThat(m).contains("saturated"));
    assertThat(f).extracting(Finding::state).contains(HealthState.HEALTH_STATE_UNHEALTHY);
  }
}
