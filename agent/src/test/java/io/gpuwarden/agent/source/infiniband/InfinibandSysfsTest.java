package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfinibandSysfsTest {
  @TempDir
  Path tmp;

  static Path fixture(String name) {
    return Path.of(System.getProperty("gpuwarden.fixtures", "src/test/fixtures"), "sysfs", name);
  }

  @Test
  void healthyHostHasEightActiveNdrPortsWithByteCounters() {
    InfinibandSysfs sysfs = new InfinibandSysfs(fixture("healthy-8x-ndr"));
    List<InfinibandPortInfo> inventory = sysfs.inventory();
    assertThat(inventory).hasSize(8);
    assertThat(inventory.get(0).getHca()).isEqualTo("mlx5_0");
    assertThat(inventory.get(0).getPciBusId()).isEqualTo("0000:1a:00.0");
    assertThat(inventory.get(0).getFirmwareVersion()).isEqualTo("28.39.1002");
    assertThat(inventory.get(0).getLinkLayer()).isEqualTo("InfiniBand");
    List<InfinibandPortSample> ports = sysfs.sample(Instant.now());
    assertThat(ports).hasSize(8).allSatisfy(p -> {
      assertThat(p.getState()).isEqualTo(4);
      assertThat(p.getStateName()).isEqualTo("ACTIVE");
      assertThat(p.getPhysStateName()).isEqualTo("LinkUp");
      assertThat(p.getRateBitsPerSecond()).isEqualTo(400_000_000_000L);
      assertThat(p.getReadErrorsList()).isEmpty();
      assertThat(p.getSaturatedCountersList()).isEmpty();
    });
    InfinibandPortSample second = ports.get(1);
    assertThat(second.getCountersMap()).containsEntry("port_xmit_data", 123456789L * 2 * 4)
        .containsEntry("symbol_error", 1L).containsEntry("hw_counters/out_of_sequence", 3L)
        .doesNotContainKey("hw_counters/lifespan");
  }

  @Test
  void portDownAndDegradedRateAreRead() {
    InfinibandPortSample down = new InfinibandSysfs(fixture("port-down")).sample(Instant.now()).get(3);
    assertThat(down.getStateName()).isEqualTo("DOWN");
    assertThat(down.getPhysStateName()).isEqualTo("Disabled");
    assertThat(new InfinibandSysfs(fixture("degraded-rate")).sample(Instant.now()).get(5).getRateText())
        .isEqualTo("200 Gb/sec (4X HDR)");
  }

  @Test
  void saturatedNarrowCountersAreFlagged() {
    assertThat(new InfinibandSysfs(fixture("saturated")).sample(Instant.now()).get(2).getSaturatedCountersList())
        .containsExactlyInAnyOrder("symbol_error", "link_downed", "link_error_recovery", "local_link_integrity_errors",
            "excessive_buffer_overrun_errors");
  }

  @Test
  void unreadableFilesAreReportedPerFileAndVanishingPortsAreTolerated() throws Exception {
    Path root = tmp.resolve("sys");
    Path port = root.resolve("class/infiniband/mlx5_0/ports/1");
    Files.createDirectories(port.resolve("counters"));
    Files.writeString(port.resolve("state"), "4: ACTIVE\n");
    Files.writeString(port.resolve("rate"), "400 Gb/sec (4X NDR)\n");
    Files.writeString(port.resolve("counters/symbol_error"), "N/A (no PMA)\n");
    InfinibandPortSample p = new InfinibandSysfs(root).sample(Instant.now()).get(0);
    assertThat(p.getStateName()).isEqualTo("ACTIVE");
    assertThat(p.getReadErrorsList()).anySatisfy(e -> assertThat(e).startsWith("phys_state:"))
        .anySatisfy(e -> assertThat(e).contains("symbol_error").contains("N/A (no PMA)"));
    assertThat(new InfinibandSysfs(tmp.resolve("nothing-here")).sample(Instant.now())).isEmpty();
  }
}
