package io.gpuwarden.collector.verdict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.Node;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PoolExpectationTest {
  private static final long NDR = 400_000_000_000L;
  private final PoolExpectation h100 = PoolExpectation.parse("h100:gpus=8,ib-ports=8,ib-rate=400");

  @Test
  void parsesEveryKey() {
    assertThat(h100).isEqualTo(new PoolExpectation("h100", OptionalInt.of(8), OptionalInt.of(8),
        OptionalDouble.of(400)));
  }

  @Test
  void parsesAnySubsetOfTheKeysWithSpacesAndFractionalRates() {
    assertThat(PoolExpectation.parse("a100: ib-rate = 12.5 ")).isEqualTo(new PoolExpectation("a100",
        OptionalInt.empty(), OptionalInt.empty(), OptionalDouble.of(12.5)));
    assertThat(PoolExpectation.parse("l4:gpus=4")).isEqualTo(new PoolExpectation("l4", OptionalInt.of(4),
        OptionalInt.empty(), OptionalDouble.empty()));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "h100                 | expected POOL:KEY=VALUE",
      ":gpus=8              | the pool name is empty",
      "h100:                | no expectation given for pool 'h100'",
      "h100:gpus            | 'gpus' is not KEY=VALUE",
      "h100:gpus=8,         | '' is not KEY=VALUE",
      "h100:gpu=8           | unknown key 'gpu'",
      "h100:gpus=eight      | value 'eight' of gpus is not a positive whole number",
      "h100:gpus=0          | value '0' of gpus is not a positive whole number",
      "h100:ib-ports=-1     | value '-1' of ib-ports is not a positive whole number",
      "h100:ib-rate=fast    | value 'fast' of ib-rate is not a positive number of Gb/s",
      "h100:ib-rate=NaN     | value 'NaN' of ib-rate is not a positive number of Gb/s",
      "h100:ib-rate=Infinity| value 'Infinity' of ib-rate is not a positive number of Gb/s",
      "h100:gpus=8,gpus=4   | key 'gpus' given twice",
  })
  void rejectsBadSpecsNamingTheSpecTheProblemAndTheAcceptedKeys(String spec, String problem) {
    assertThatThrownBy(() -> PoolExpectation.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad pool expectation '" + spec + "': ")
        .hasMessageContaining(problem)
        .hasMessageEndingWith("; accepted keys: gpus, ib-ports, ib-rate");
  }

  @Test
  void constructorRefusesBlankPoolsAndNonPositiveValues() {
    assertThatThrownBy(() -> new PoolExpectation(" ", OptionalInt.of(8), OptionalInt.empty(), OptionalDouble.empty()))
        .hasMessage("pool name must not be blank");
    assertThatThrownBy(() -> new PoolExpectation("h100", OptionalInt.of(0), OptionalInt.empty(),
        OptionalDouble.empty())).hasMessage("expected GPUs must be > 0, got 0");
    assertThatThrownBy(() -> new PoolExpectation("h100", OptionalInt.empty(), OptionalInt.of(-2),
        OptionalDouble.empty())).hasMessage("expected InfiniBand ports must be > 0, got -2");
    assertThatThrownBy(() -> new PoolExpectation("h100", OptionalInt.empty(), OptionalInt.empty(),
        OptionalDouble.of(Double.NaN))).hasMessage("expected InfiniBand rate must be > 0 Gb/s, got NaN");
  }

  @Test
  void byPoolIndexesAndRefusesDuplicates() {
    PoolExpectation a100 = PoolExpectation.parse("a100:gpus=8");
    assertThat(PoolExpectation.byPool(List.of(h100, a100))).containsOnlyKeys("h100", "a100")
        .containsEntry("a100", a100);
    assertThatThrownBy(() -> PoolExpectation.byPool(List.of(h100, a100, PoolExpectation.parse("h100:gpus=4"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pool 'h100' has more than one expectation");
  }

  @Test
  void nodeMatchingTheExpectationHasNoReasons() {
    assertThat(h100.check(node(8, 8, NDR))).isEmpty();
  }

  @Test
  void nodeWithMoreThanExpectedHasNoReasons() {
    assertThat(h100.check(node(16, 10, 800_000_000_000L))).isEmpty();
  }

  @Test
  void missingGpusAreUnhealthyAndNeedInspection() {
    assertThat(h100.check(node(3, 8, NDR))).singleElement().satisfies(r -> {
      assertThat(r.getCheck()).isEqualTo("inventory");
      assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(r.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(r.getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_NODE);
      assertThat(r.getMessage()).isEqualTo("3 of 8 expected GPUs present");
    });
  }

  @Test
  void missingPortsAreUnhealthyAndPointAtTheFabric() {
    assertThat(h100.check(node(8, 7, NDR))).singleElement().satisfies(r -> {
      assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(r.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC);
      assertThat(r.getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_NODE);
      assertThat(r.getMessage()).isEqualTo("7 of 8 expected InfiniBand ports present");
    });
  }

  @Test
  void portsAreCountedFromTheInventoryWhenTheNodeSentNoSamples() {
    Node inventoryOnly = node(8, 8, NDR).toBuilder().clearInfinibandSamples().build();
    assertThat(h100.check(inventoryOnly)).isEmpty();
    Inventory six = inventoryOnly.getInventory().toBuilder().removeInfinibandPorts(7).removeInfinibandPorts(6).build();
    assertThat(h100.check(inventoryOnly.toBuilder().setInventory(six).build())).extracting(Reason::getMessage)
        .containsExactly("6 of 8 expected InfiniBand ports present");
  }

  @Test
  void portsAreCountedFromTheSamplesWhenThereAreAny() {
    // The inventory lists 8 ports, the latest samples only 7: the samples are what is there now.
    Node node = node(8, 8, NDR).toBuilder().removeInfinibandSamples(3).build();
    assertThat(h100.check(node)).extracting(Reason::getMessage)
        .containsExactly("7 of 8 expected InfiniBand ports present");
  }

  @Test
  void slowActivePortIsDegradedNamingThePortAndBothRates() {
    Node node = node(8, 8, NDR).toBuilder().setInfinibandSamples(2,
        port(2, "ACTIVE", 200_000_000_000L, "200 Gb/sec (4X HDR)")).build();
    assertThat(h100.check(node)).singleElement().satisfies(r -> {
      assertThat(r.getCheck()).isEqualTo("inventory");
      assertThat(r.getState()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
      assertThat(r.getAction()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC);
      assertThat(r.getComponent().getKind()).isEqualTo(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT);
      assertThat(r.getComponent().getHca()).isEqualTo("mlx5_2");
      assertThat(r.getComponent().getPort()).isEqualTo(1);
      assertThat(r.getMessage()).isEqualTo("mlx5_2 port 1 runs at 200 Gb/sec (4X HDR), expected 400 Gb/s");
    });
  }

  @Test
  void rateIsCheckedOnlyOnActivePorts() {
    Node node = node(8, 8, NDR).toBuilder()
        .setInfinibandSamples(1, port(1, "DOWN", 0, ""))
        .setInfinibandSamples(4, port(4, "INIT", 100_000_000_000L, "100 Gb/sec (4X EDR)")).build();
    assertThat(h100.check(node)).isEmpty();
  }

  @Test
  void portWithUnreadableRateIsNotCalledSlow() {
    Node node = node(8, 8, NDR).toBuilder().setInfinibandSamples(5, port(5, "ACTIVE", 0, "").toBuilder()
        .addReadErrors("rate: No such file or directory")).build();
    assertThat(h100.check(node)).isEmpty();
  }

  @Test
  void everyShortfallIsReportedTogether() {
    Node node = node(2, 8, NDR).toBuilder().removeInfinibandSamples(7)
        .setInfinibandSamples(0, port(0, "ACTIVE", 200_000_000_000L, "200 Gb/sec (4X HDR)")).build();
    assertThat(h100.check(node)).extracting(Reason::getMessage).containsExactly(
        "2 of 8 expected GPUs present",
        "7 of 8 expected InfiniBand ports present",
        "mlx5_0 port 1 runs at 200 Gb/sec (4X HDR), expected 400 Gb/s");
  }

  @Test
  void unsetExpectationsAreNotChecked() {
    assertThat(PoolExpectation.parse("h100:ib-rate=400").check(node(1, 1, NDR))).isEmpty();
  }

  private static Node node(int gpus, int ports, long rate) {
    Inventory.Builder inventory = Inventory.newBuilder();
    Node.Builder node = Node.newBuilder().setNodeId("n1").setPool("h100");
    for (int i = 0; i < gpus; i++) {
      inventory.addGpus(GpuInfo.newBuilder().setIndex(i).setUuid("GPU-" + i));
    }
    for (int i = 0; i < ports; i++) {
      inventory.addInfinibandPorts(InfinibandPortInfo.newBuilder().setHca("mlx5_" + i).setPort(1));
      node.addInfinibandSamples(port(i, "ACTIVE", rate, rate / 1_000_000_000L + " Gb/sec (4X NDR)"));
    }
    return node.setInventory(inventory).build();
  }

  private static InfinibandPortSample port(int hca, String state, long rate, String rateText) {
    return InfinibandPortSample.newBuilder().setHca("mlx5_" + hca).setPort(1).setStateName(state)
        .setState(state.equals("ACTIVE") ? 4 : state.equals("INIT") ? 2 : 1).setRateBitsPerSecond(rate)
        .setRateText(rateText).build();
  }
}
