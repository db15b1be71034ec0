package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfinibandSysfsChangesTest {
  private static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  @TempDir
  Path tmp;

  @Test
  void hcasThatVanishAndReappearBetweenReadsAreListedAfresh() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    assertThat(sysfs.sample(T0)).hasSize(8);

    Path link = root.resolve("class/infiniband/mlx5_7");
    Path target = Files.readSymbolicLink(link);
    Files.delete(link);
    assertThat(sysfs.sample(T0).stream().map(InfinibandPortSample::getHca)).hasSize(7).doesNotContain("mlx5_7");
    assertThat(sysfs.inventory()).hasSize(7);

    Files.createSymbolicLink(link, target);
    assertThat(sysfs.sample(T0).stream().map(InfinibandPortSample::getHca)).hasSize(8).contains("mlx5_7");
  }

  @Test
  void aPortThatAppearsOnAnHcaIsRead() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    Path port1 = SysfsFixtures.port(root, "mlx5_0");
    Path port2 = port1.resolveSibling("2");
    Files.createDirectories(port2.resolve("counters"));
    Files.writeString(port2.resolve("state"), "1: DOWN\n");
    Files.writeString(port2.resolve("phys_state"), "2: Polling\n");
    Files.writeString(port2.resolve("rate"), "2.5 Gb/sec (1X SDR)\n");
    List<InfinibandPortSample> ports = new InfinibandSysfs(root).sample(T0);
    assertThat(ports).hasSize(9);
    InfinibandPortSample second = ports.stream().filter(p -> p.getHca().equals("mlx5_0") && p.getPort() == 2)
        .findFirst().orElseThrow();
    assertThat(second.getStateName()).isEqualTo("DOWN");
    assertThat(second.getPhysStateName()).isEqualTo("Polling");
    assertThat(second.getRateBitsPerSecond()).isEqualTo(2_500_000_000L);
  }

  @Test
  void aCounterThatCannotBeReadIsReportedAloneWhileTheOthersAreRead() throws Exception {
    Path root = SysfsFixtures.copy("healthy-8x-ndr", tmp);
    Path counters = SysfsFixtures.port(root, "mlx5_1").resolve("counters");
    // Root ignores file modes, so a directory stands in for a file whose read fails (EISDIR).
    Files.delete(counters.resolve("symbol_error"));
    Files.createDirectory(counters.resolve("symbol_error"));
    Files.writeString(counters.resolve("port_rcv_errors"), "N/A (no PMA)\n");
    Files.delete(SysfsFixtures.port(root, "mlx5_1").resolve("rate"));

    InfinibandPortSample p = new InfinibandSysfs(root).sample(T0).get(1);
    assertThat(p.getReadErrorsList()).hasSize(3)
        .anySatisfy(e -> assertThat(e).startsWith("counters/symbol_error:"))
        .anySatisfy(e -> assertThat(e).startsWith("port_rcv_errors:").contains("N/A (no PMA)"))
        .anySatisfy(e -> assertThat(e).startsWith("rate:"));
    assertThat(p.getCountersMap()).doesNotContainKeys("symbol_error", "port_rcv_errors")
        .containsEntry("link_downed", 0L).containsKey("port_xmit_data");
    assertThat(p.getStateName()).isEqualTo("ACTIVE");
  }

  @Test
  void saturatedFixtureKeepsRawValuesAndFlagsOnlyThatPort() {
    List<InfinibandPortSample> ports = new InfinibandSysfs(SysfsFixtures.fixture("saturated")).sample(T0);
    InfinibandPortSample p = ports.get(2);
    assertThat(p.getHca()).isEqualTo("mlx5_2");
    assertThat(p.getCountersMap()).containsEntry("symbol_error", 65535L).containsEntry("link_downed", 255L)
        .containsEntry("local_link_integrity_errors", 15L).containsEntry("excessive_buffer_overrun_errors", 15L)
        .containsEntry("port_rcv_data", 2962962963L * 4).containsEntry("port_xmit_packets", 13703670L);
    assertThat(ports).filteredOn(q -> !q.getHca().equals("mlx5_2"))
        .allSatisfy(q -> assertThat(q.getSaturatedCountersList()).isEmpty());
  }

  @Test
  void aClearedCounterBetweenTwoReadsIsAResetNotANegativeDelta() {
    Path root = SysfsFixtures.copy("saturated", tmp);
    InfinibandSysfs sysfs = new InfinibandSysfs(root);
    long before = sysfs.sample(T0).get(2).getCountersMap().get("symbol_error");
    SysfsFixtures.writeCounter(root, "mlx5_2", "symbol_error", 3);
    InfinibandPortSample after = sysfs.sample(T0.plusSeconds(10)).get(2);
    assertThat(after.getSaturatedCountersList()).doesNotContain("symbol_error");
    assertThat(CounterDelta.between("symbol_error", before, after.getCountersMap().get("symbol_error")))
        .isEqualTo(new CounterDelta(CounterDelta.Kind.RESET, 3));
  }

  @Test
  void anHcaWithoutADeviceLinkHasNoPciBusId() throws Exception {
    Path root = tmp.resolve("sys");
    Path hca = root.resolve("class/infiniband/mlx5_0");
    Files.createDirectories(hca.resolve("ports/1"));
    Files.writeString(hca.resolve("fw_ver"), "28.39.1002\n");
    assertThat(new InfinibandSysfs(root).inventory()).singleElement().satisfies(i -> {
      assertThat(i.getPciBusId()).isEmpty();
      assertThat(i.getFirmwareVersion()).isEqualTo("28.39.1002");
    });
  }

  @Test
  void inventoryResolvesEveryHcasPciBusIdAndIdentity() {
    assertThat(new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr")).inventory())
        .extracting(i -> i.getHca() + "@" + i.getPciBusId())
        .containsExactly("mlx5_0@0000:1a:00.0", "mlx5_1@0000:3c:00.0", "mlx5_2@0000:4d:00.0", "mlx5_3@0000:5e:00.0",
            "mlx5_4@0000:9c:00.0", "mlx5_5@0000:bc:00.0", "mlx5_6@0000:cc:00.0", "mlx5_7@0000:dc:00.0");
    assertThat(new InfinibandSysfs(SysfsFixtures.fixture("healthy-8x-ndr")).inventory())
        .allSatisfy(i -> {
          assertThat(i.getBoardId()).isNotEmpty();
          assertThat(i.getHcaType()).isEqualTo("MT4129");
          assertThat(i.getLinkLayer()).isEqualTo("InfiniBand");
          assertThat(i.getNodeGuid()).matches("\\p{XDigit}{4}(:\\p{XDigit}{4}){3}");
        });
  }
}
