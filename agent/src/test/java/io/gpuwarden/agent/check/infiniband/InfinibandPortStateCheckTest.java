package io.gpuwarden.agent.check.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class InfinibandPortStateCheckTest {
  private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
  private static final InfinibandCheckConfig EXPECT_8X400 =
      InfinibandCheckConfig.defaults().withExpectedPorts(8).withExpectedRateGbps(400);

  private static List<InfinibandPortSample> read(String fixture) {
    return new InfinibandSysfs(SysfsFixtures.fixture(fixture)).sample(NOW);
  }

  private static List<Finding> judge(InfinibandCheckConfig config, List<InfinibandPortSample> ports) {
    return new InfinibandPortStateCheck(config, () -> ports).evaluate(NOW, ports);
  }

  @Test
  void eightActiveNdrPortsAreHealthy() {
    assertThat(judge(EXPECT_8X400, read("healthy-8x-ndr"))).isEmpty();
  }

  @Test
  void aDownDisabledPortIsUnhealthyAndNamesTheFabric() {
    assertThat(judge(EXPECT_8X400, read("port-down"))).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC);
      assertThat(f.component().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT);
      assertThat(f.component().getHca()).isEqualTo("mlx5_3");
      assertThat(f.component().getPort()).isEqualTo(1);
      assertThat(f.message()).contains("mlx5_3 port 1", "DOWN (1)", "Disabled (3)");
    });
  }

  @Test
  void anActivePortWhoseLinkIsNotUpIsUnhealthy() {
    InfinibandPortSample p = read("healthy-8x-ndr").get(0).toBuilder().setPhysState(6)
        .setPhysStateName("LinkErrorRecovery").build();
    assertThat(judge(InfinibandCheckConfig.defaults(), List.of(p))).singleElement()
        .satisfies(f -> assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY));
  }

  @Test
  void aPortBelowTheExpectedRateIsDegraded() {
    assertThat(judge(EXPECT_8X400, read("degraded-rate"))).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(f.component().getHca()).isEqualTo("mlx5_5");
      assertThat(f.message()).contains("200 Gb/sec (4X HDR)", "expected 400 Gb/sec");
    });
  }

  @Test
  void withoutAnInventoryTheRateIsNotComparedWithSiblings() {
    assertThat(judge(InfinibandCheckConfig.defaults(), read("degraded-rate"))).isEmpty();
  }

  @Test
  void fewerPortsThanExpectedIsUnhealthy() {
    List<InfinibandPortSample> seven = read("healthy-8x-ndr").subList(0, 7);
    assertThat(judge(EXPECT_8X400, seven)).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(f.message()).contains("found 7 InfiniBand ports, expected 8");
    });
    assertThat(judge(EXPECT_8X400, List.of())).singleElement()
        .satisfies(f -> assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION));
    assertThat(judge(InfinibandCheckConfig.defaults(), List.of())).isEmpty();
  }

  @Test
  void aPortWhoseStateCannotBeReadIsUnknownNotDown() {
    InfinibandPortSample p = InfinibandPortSample.newBuilder().setHca("mlx5_0").setPort(1)
        .addReadErrors("state: NoSuchFileException /sys/class/infiniband/mlx5_0/ports/1/state").build();
    assertThat(judge(InfinibandCheckConfig.defaults(), List.of(p))).singleElement()
        .satisfies(f -> assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNKNOWN));
  }

  @Test
  void asAHealthCheckItReadsThePortsFromItsSupplierAndSurvivesAFailingOne() {
    HostSnapshot host = new HostSnapshot(NOW, "boot", List.of(), List.of(), OptionalInt.empty(), List.of(),
        Optional.empty());
    InfinibandSysfs sysfs = new InfinibandSysfs(SysfsFixtures.fixture("port-down"));
    assertThat(new InfinibandPortStateCheck(EXPECT_8X400, () -> sysfs.sample(NOW)).evaluate(host)).hasSize(1);
    assertThat(new InfinibandPortStateCheck(EXPECT_8X400, () -> {
      throw new IllegalStateException("sysfs gone");
    }).evaluate(host)).singleElement().satisfies(f -> {
      assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_UNKNOWN);
      assertThat(f.message()).contains("sysfs gone");
    });
  }
}
