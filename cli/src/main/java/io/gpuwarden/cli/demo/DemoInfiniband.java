package io.gpuwarden.cli.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes the InfiniBand part of a sysfs tree for a simulated host, in the kernel's layout: HCA
 * directories under {@code devices/<pci>/infiniband/}, symlinked from {@code class/infiniband/}, each
 * with one InfiniBand port at 400 Gb/s (NDR), ACTIVE and LinkUp, and zeroed counters. The agent
 * reads it with {@code --sysfs-root} exactly as it reads {@code /sys}.
 */
public final class DemoInfiniband {
  private static final List<String> PCI = List.of("0000:1a:00.0", "0000:3c:00.0", "0000:4d:00.0", "0000:5e:00.0",
      "0000:9c:00.0", "0000:bc:00.0", "0000:cc:00.0", "0000:dc:00.0");
  private static final List<String> COUNTERS = List.of("symbol_error", "link_error_recovery", "link_downed", "port_rcv_errors",
      "port_rcv_remote_physical_errors", "port_rcv_switch_relay_errors", "port_xmit_discards", "port_xmit_constraint_errors",
      "port_rcv_constraint_errors", "local_link_integrity_errors", "excessive_buffer_overrun_errors", "VL15_dropped",
      "port_xmit_data", "port_rcv_data", "port_xmit_packets", "port_rcv_packets", "port_xmit_wait");

  private DemoInfiniband() {}

  /** Writes {@code hcas} healthy NDR HCAs (at most 8) below {@code root}; returns {@code root}. */
  public static Path write(Path root, int hcas, int nodeNumber) throws IOException {
    Path classDir = Files.createDirectories(root.resolve("class/infiniband"));
    for (int i = 0; i < Math.min(hcas, PCI.size()); i++) {
      String hca = "mlx5_" + i;
      Path dev = Files.createDirectories(root.resolve("devices/pci0000:00").resolve(PCI.get(i)).resolve("infiniband").resolve(hca));
      Files.writeString(dev.resolve("fw_ver"), "28.39.1002\n");
      Files.writeString(dev.resolve("board_id"), "MT_0000000838\n");
      Files.writeString(dev.resolve("hca_type"), "MT4129\n");
      Files.writeString(dev.resolve("node_guid"),
          String.format(Locale.ROOT, "a088:c203:00%02x:%04x%n", nodeNumber & 0xff, i));
      Path port = Files.createDirectories(dev.resolve("ports/1"));
      Files.writeString(port.resolve("state"), "4: ACTIVE\n");
      Files.writeString(port.resolve("phys_state"), "5: LinkUp\n");
      Files.writeString(port.resolve("rate"), "400 Gb/sec (4X NDR)\n");
      Files.writeString(port.resolve("link_layer"), "InfiniBand\n");
      Path counters = Files.createDirectories(port.resolve("counters"));
      for (String c : COUNTERS) {
        Files.writeString(counters.resolve(c), "0\n");
      }
      Path link = classDir.resolve(hca);
      if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, Path.of("../../devices/pci0000:00", PCI.get(i), "infiniband", hca));
      }
    }
    return root;
  }
}
