package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads without counters: state and rate fresh, counters carried forward from the last full read. */
class InfinibandSysfsStatusOnlyTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  private static final Instant T1 = T0.plusSeconds(1);

  @TempDir
  Path tmp;

  @Test
  void stateIsReadFreshAndTheChecksSeeTheLastCountersWhileTheSamplesCarryNone() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    InfinibandPortSample before = sysfs.sample(T0, true).get(3);

    SysfsFixtures.writeCounter(root, "mlx5_3", "symbol_error", 42);
    SysfsFixtures.writeCounter(root, "mlx5_3", "link_downed", 3);
    Files.writeString(SysfsFixtures.port(root, "mlx5_3").resolve("state"), "1: DOWN\n");
    Files.writeString(SysfsFixtures.port(root, "mlx5_3").resolve("phys_state"), "3: Disabled\n");

    List<InfinibandPortSample> cheap = sysfs.sample(T1, false);
    assertThat(cheap).hasSize(8);
    InfinibandPortSample p = cheap.get(3);
    assertThat(p.getStateName()).isEqualTo("DOWN");
    assertThat(p.getPhysStateName()).isEqualTo("Disabled");
    assertThat(p.getTime().getSeconds()).isEqualTo(T1.getEpochSecond());
    assertThat(p.getCountersMap()).isEmpty();
    assertThat(p.getCountersCarried()).isTrue();
    assertThat(before.getCountersCarried()).isFalse();
    InfinibandPortSample viewed = sysfs.checkView().get(3);
    assertThat(viewed.getCountersMap()).isEqualTo(before.getCountersMap()).doesNotContainEntry("symbol_error", 42L);
    assertThat(viewed.getStateName()).as("the view has the status just read").isEqualTo("DOWN");
    assertThat(viewed.getPhysStateName()).isEqualTo("Disabled");
    InfinibandPortSample unchanged = sysfs.checkView().get(2);
    sysfs.sample(T1.plusSeconds(1), false);
    assertThat(sysfs.checkView().get(2)).as("an unchanged port's view is not rebuilt").isSameAs(unchanged);

    InfinibandPortSample full = sysfs.sample(T1, true).get(3);
    assertThat(full.getCountersMap()).containsEntry("symbol_error", 42L).containsEntry("link_downed", 3L);
    assertThat(full.getCountersCarried()).isFalse();
    assertThat(sysfs.sample(T1, false).get(3).getCountersMap()).isEmpty();
    assertThat(sysfs.checkView().get(3).getCountersMap()).containsEntry("symbol_error", 42L);
  }

  @Test
  void physStateAndRateAreReadAgainWhenTheStateChangesAndCarriedWhileItDoesNot() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    sysfs.sample(T0, true);
    Path port = SysfsFixtures.port(root, "mlx5_5");

    // The rate moved while the port stayed ACTIVE: carried until the next full read.
    Files.writeString(port.resolve("rate"), "200 Gb/sec (2X NDR)\n");
    assertThat(sysfs.sample(T1, false).get(5).getRateText()).isEqualTo("400 Gb/sec (4X NDR)");
    assertThat(sysfs.sample(T1, true).get(5).getRateText()).isEqualTo("200 Gb/sec (2X NDR)");

    // The state changed: all three are read at once.
    Files.writeString(port.resolve("state"), "2: INIT\n");
    Files.writeString(port.resolve("phys_state"), "5: LinkUp\n");
    Files.writeString(port.resolve("rate"), "100 Gb/sec (4X EDR)\n");
    InfinibandPortSample changed = sysfs.sample(T1.plusSeconds(1), false).get(5);
    assertThat(changed.getStateName()).isEqualTo("INIT");
    assertThat(changed.getRateText()).isEqualTo("100 Gb/sec (4X EDR)");
    assertThat(changed.getRateBitsPerSecond()).isEqualTo(100_000_000_000L);

    Files.writeString(port.resolve("phys_state"), "2: Polling\n");
    assertThat(sysfs.sample(T1.plusSeconds(2), false).get(5).getPhysStateName()).as("state unchanged: carried")
        .isEqualTo("LinkUp");
  }

  @Test
  void theFirstReadIsFullEvenWithoutCounters() {
    List<InfinibandPortSample> ports = new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr")).sample(T0, false);
    assertThat(ports).hasSize(8);
    assertThat(ports.get(0).getCountersMap()).containsKeys("symbol_error", "port_xmit_data");
  }

  @Test
  void counterReadErrorsStayInTheChecksViewWithTheCounters() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    Files.writeString(SysfsFixtures.port(root, "mlx5_1").resolve("counters/port_rcv_errors"), "N/A (no PMA)\n");
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    assertThat(sysfs.sample(T0, true).get(1).getReadErrorsList()).singleElement()
        .satisfies(e -> assertThat(e).startsWith("port_rcv_errors:"));
    assertThat(sysfs.sample(T1, false).get(1).getReadErrorsList()).isEmpty();
    assertThat(sysfs.checkView().get(1).getReadErrorsList()).singleElement()
        .satisfies(e -> assertThat(e).startsWith("port_rcv_errors:"));
  }

  @Test
  void aPortThatVanishedTurnsTheReadIntoAFullOne() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    assertThat(sysfs.sample(T0, true)).hasSize(8);
    Files.delete(root.resolve("class/infiniband/mlx5_7"));
    List<InfinibandPortSample> after = sysfs.sample(T1, false);
    assertThat(after).hasSize(7).extracting(InfinibandPortSample::getHca).doesNotContain("mlx5_7");
    assertThat(after).allSatisfy(p -> assertThat(p.getReadErrorsList()).isEmpty());
  }

  @Test
  void aPortThatAppearedIsFoundByTheNextFullRead() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    Path link = root.resolve("class/infiniband/mlx5_7");
    Path target = Files.readSymbolicLink(link);
    Files.delete(link);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    assertThat(sysfs.sample(T0, true)).hasSize(7);
    Files.createSymbolicLink(link, target);
    assertThat(sysfs.sample(T1, false)).as("the listing is reused").hasSize(7);
    assertThat(sysfs.sample(T1, true)).hasSize(8);
  }
}
