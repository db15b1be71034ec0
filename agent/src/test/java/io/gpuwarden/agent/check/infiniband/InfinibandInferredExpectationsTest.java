package io.gpuwarden.agent.check.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.source.infiniband.SysfsFixtures;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.state.StateSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The port check without configured expectations: the ports seen on this boot are the expected set,
 * and a port slower than its siblings of the same HCA model and link layer is DEGRADED. Fixture
 * trees in the real sysfs layout, read by {@link InfinibandSysfs}.
 */
class InfinibandInferredExpectationsTest {
  private static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");

  @TempDir
  Path dir;

  private static HostSnapshot host(String bootId) {
    return new HostSnapshot(NOW, bootId, List.of(), List.of(), OptionalInt.empty(), List.of(), Optional.empty());
  }

  /** The check as the agent builds it, reading {@code sysfs} afresh on every evaluation. */
  private static InfinibandPortStateCheck check(InfinibandCheckConfig config, InfinibandSysfs sysfs, StateStore state) {
    return new InfinibandPortStateCheck(config, () -> sysfs.sample(NOW), sysfs::inventory, state);
  }

  private StateStore memory() {
    return StateSnapshot.of(dir.resolve("no-state"));
  }

  @Test
  void aHealthyHostIsHealthyWithoutConfiguration() {
    InfinibandSysfs sysfs = new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr"));
    InfinibandPortStateCheck c = check(InfinibandCheckConfig.defaults(), sysfs, memory());
    assertThat(c.evaluate(host("b1"))).isEmpty();
    assertThat(c.evaluate(host("b1"))).isEmpty();
  }

  @Test
  void aPortAtHalfTheRateOfItsSevenSiblingsIsDegradedWithoutConfiguration() {
    InfinibandSysfs sysfs = new InfinibandSysfs(SysfsFixtures.fixture("degraded-rate"));
    assertThat(check(InfinibandCheckConfig.defaults(), sysfs, memory()).evaluate(host("b1"))).singleElement()
        .satisfies(f -> {
          assertThat(f.state()).isEqualTo(HealthState.HEALTH_STATE_DEGRADED);
          assertThat(f.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC);
          assertThat(f.component().getHca()).isEqualTo("mlx5_5");
          assertThat(f.message()).contains("mlx5_5 port 1 runs at 200 Gb/sec (4X HDR)",
              "slower than its 7 siblings (MT4129, InfiniBand) at up to 400 Gb/sec (4X NDR)");
        });
  }

  @Test
  void aConfiguredRateWinsOverTheSiblings() {
    InfinibandSysfs sysfs = new InfinibandSysfs(SysfsFixtures.fixture("degraded-rate"));
    assertThat(check(InfinibandCheckConfig.defaults().withExpectedRateGbps(200), sysfs, memory()).evaluate(host("b1")))
        .isEmpty();
    assertThat(check(InfinibandCheckConfig.defaults().withExpectedRateGbps(400), sysfs, memory()).evaluate(host("b1")))
        .singleElement().satisfies(f -> assertThat(f.message()).contains("expected 400 Gb/sec"));
  }

  @Test
  void onlyPortsOfTheSameModelAndLinkLayerAreSiblings() {
    List<InfinibandPortSample> samples = new ArrayList<>(new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr"))
        .sample(NOW));
    List<InfinibandPortInfo> inventory = new ArrayList<>(new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr"))
        .inventory());
    // A 100 Gb/s RoCE port of the same ConnectX-7 model (storage), and a 200 Gb/s port of another model.
    samples.add(samples.get(0).toBuilder().setHca("mlx5_8").setRateBitsPerSecond(100_000_000_000L)
        .setRateText("100 Gb/sec (2X HDR)").build());
    inventory.add(inventory.get(0).toBuilder().setHca("mlx5_8").setLinkLayer("Ethernet").build());
    samples.add(samples.get(0).toBuilder().setHca("mlx5_9").setRateBitsPerSecond(200_000_000_000L)
        .setRateText("200 Gb/sec (4X HDR)").build());
    inventory.add(inventory.get(0).toBuilder().setHca("mlx5_9").setHcaType("MT4123").setBoardId("MT_0000000223").build());
    assertThat(new InfinibandPortStateCheck(InfinibandCheckConfig.defaults(), () -> samples, () -> inventory, memory())
        .evaluate(host("b1"))).isEmpty();

    // Without hca_type the board id names the model.
    List<InfinibandPortInfo> noType = inventory.stream().map(i -> i.toBuilder().clearHcaType().build()).toList();
    List<InfinibandPortSample> slow = new ArrayList<>(samples);
    slow.set(2, slow.get(2).toBuilder().setRateBitsPerSecond(200_000_000_000L).setRateText("200 Gb/sec (4X HDR)").build());
    assertThat(new InfinibandPortStateCheck(InfinibandCheckConfig.defaults(), () -> slow, () -> noType, memory())
        .evaluate(host("b1"))).singleElement().satisfies(f -> assertThat(f.message())
            .contains(slow.get(2).getHca() + " port 1 runs at 200 Gb/sec", "7 siblings (MT_0000000838, InfiniBand)"));
  }

  @Test
  void anHcaThatVanishesAfterTheFirstReadOfTheBootIsUnhealthy() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    StateStore state = memory();
    InfinibandPortStateCheck c = check(InfinibandCheckConfig.defaults(), sysfs, state);
    assertThat(c.evaluate(host("b1"))).isEmpty();

    Files.delete(root.resolve("class/infiniband/mlx5_3")); // the class entry goes when the device is removed
    List<Finding> f = c.evaluate(host("b1"));
    assertThat(f).singleElement().satisfies(x -> {
      assertThat(x.state()).isEqualTo(HealthState.HEALTH_STATE_UNHEALTHY);
      assertThat(x.action()).isEqualTo(SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION);
      assertThat(x.component().getHca()).isEqualTo("mlx5_3");
      assertThat(x.component().getPort()).isEqualTo(1);
      assertThat(x.message()).contains("mlx5_3 port 1 was present earlier on this boot and is gone from sysfs with its HCA");
    });

    // A new boot starts afresh: seven ports are then the expected set.
    assertThat(c.evaluate(host("b2"))).isEmpty();
    assertThat(state.withPrefix("infiniband.seen-ports.")).containsOnlyKeys("infiniband.seen-ports.b2");
  }

  @Test
  void aPortThatVanishesWhileItsHcaStaysIsNamedSo() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    InfinibandPortStateCheck c = check(InfinibandCheckConfig.defaults(), sysfs, memory());
    Path hcaDir = root.resolve("class/infiniband/mlx5_0").toRealPath();
    Path port2 = hcaDir.resolve("ports/2");
    copyTree(hcaDir.resolve("ports/1"), port2); // a dual-port HCA
    assertThat(c.evaluate(host("b1"))).isEmpty();
    deleteTree(port2);
    assertThat(c.evaluate(host("b1"))).singleElement().satisfies(x -> {
      assertThat(x.component().getPort()).isEqualTo(2);
      assertThat(x.message()).endsWith("mlx5_0 port 2 was present earlier on this boot and is gone from sysfs");
    });
  }

  @Test
  void theSetSurvivesAnAgentRestartOnTheSameBoot() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    Path stateDir = dir.resolve("state");
    FileStateStore first = FileStateStore.open(stateDir);
    assertThat(check(InfinibandCheckConfig.defaults(), new InfinibandSysfs(root), first).evaluate(host("b1"))).isEmpty();
    first.flush();

    Files.delete(root.resolve("class/infiniband/mlx5_6"));
    FileStateStore restarted = FileStateStore.open(stateDir);
    assertThat(check(InfinibandCheckConfig.defaults(), new InfinibandSysfs(root), restarted).evaluate(host("b1")))
        .singleElement().satisfies(x -> assertThat(x.component().getHca()).isEqualTo("mlx5_6"));
  }

  @Test
  void aConfiguredPortCountWinsOverTheSetSeenOnThisBoot() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    InfinibandPortStateCheck c = check(InfinibandCheckConfig.defaults().withExpectedPorts(8), new InfinibandSysfs(root),
        memory());
    assertThat(c.evaluate(host("b1"))).isEmpty();
    Files.delete(root.resolve("class/infiniband/mlx5_3"));
    assertThat(c.evaluate(host("b1"))).singleElement()
        .satisfies(x -> assertThat(x.message()).contains("found 7 InfiniBand ports, expected 8"));
  }

  @Test
  void portsThatAppearLaterJoinTheSet() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", dir);
    Path held = dir.resolve("held");
    Files.move(root.resolve("class/infiniband/mlx5_7"), held);
    InfinibandPortStateCheck c = check(InfinibandCheckConfig.defaults(), new InfinibandSysfs(root), memory());
    assertThat(c.evaluate(host("b1"))).isEmpty();
    Files.move(held, root.resolve("class/infiniband/mlx5_7"));
    assertThat(c.evaluate(host("b1"))).isEmpty();
    Files.delete(root.resolve("class/infiniband/mlx5_7"));
    assertThat(c.evaluate(host("b1"))).singleElement()
        .satisfies(x -> assertThat(x.component().getHca()).isEqualTo("mlx5_7"));
  }

  private static void copyTree(Path from, Path to) throws Exception {
    try (var all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }

  private static void deleteTree(Path root) throws Exception {
    try (var all = Files.walk(root)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
