package io.gpuwarden.agent.check.infiniband;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/** What the InfiniBand checks share: port components, labels and reading the supplier. */
final class InfinibandPorts {
  private InfinibandPorts() {}

  /** Returns the INFINIBAND_PORT component of {@code p}. */
  static Component component(InfinibandPortSample p) {
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT).setHca(p.getHca())
        .setPort(p.getPort()).build();
  }

  /** Returns {@code "mlx5_3 port 1"}. */
  static String label(InfinibandPortSample p) {
    return p.getHca() + " port " + p.getPort();
  }

  /** Returns a key unique per port. */
  static String key(InfinibandPortSample p) {
    return p.getHca() + "/" + p.getPort();
  }

  /** Returns true when file {@code file} of the port could not be read or parsed. */
  static boolean unreadable(InfinibandPortSample p, String file) {
    return p.getReadErrorsList().stream().anyMatch(e -> e.startsWith(file + ":"));
  }

  /** Reads the ports and evaluates {@code check}; a failing read is an UNKNOWN finding, not an exception. */
  static List<Finding> evaluate(InfinibandCheck check, Supplier<List<InfinibandPortSample>> ports, Instant now) {
    List<InfinibandPortSample> read;
    try {
      read = ports.get();
    } catch (RuntimeException e) {
      return List.of(readFailed(e));
    }
    return check.evaluate(now, read);
  }

  /** Returns the UNKNOWN finding for a read of the ports that threw {@code e}. */
  static Finding readFailed(RuntimeException e) {
    Component source = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_SOURCE).setSource("infiniband")
        .build();
    return Finding.unknown(source, "reading InfiniBand ports failed: " + e);
  }
}
