package io.gpuwarden.agent.check;

import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What the agent knows of the host at one moment: the input of every check.
 *
 * @param time when the samples were taken
 * @param bootId the Linux boot id
 * @param inventory the GPUs found at start-up
 * @param gpus this cycle's sample of each inventory GPU, in index order
 * @param deviceCount how many GPUs NVML counts now; empty when the count could not be read
 * @param events events since the previous snapshot (Xid events among them)
 * @param nvmlFailure why NVML is unusable (library missing, driver not loaded); empty when it works
 */
public record HostSnapshot(
    Instant time,
    String bootId,
    List<GpuInfo> inventory,
    List<GpuSample> gpus,
    OptionalInt deviceCount,
    List<Event> events,
    Optional<String> nvmlFailure) {
  /** Copies the lists. */
  public HostSnapshot {
    inventory = List.copyOf(inventory);
    gpus = List.copyOf(gpus);
    events = List.copyOf(events);
  }

  /** Returns the component for the GPU with {@code uuid}: UUID, index and PCI bus id from the inventory. */
  public Component gpu(String uuid) {
    for (GpuInfo g : inventory) {
      if (g.getUuid().equals(uuid)) {
        return gpu(g);
      }
    }
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuUuid(uuid).build();
  }

  /** Returns the component for an inventory GPU. */
  public static Component gpu(GpuInfo g) {
    return Component.newBuilder()
        .setKind(ComponentKind.COMPONENT_KIND_GPU)
        .setGpuUuid(g.getUuid())
        .setGpuIndex(g.getIndex())
        .setPciBusId(g.getPciBusId())
        .build();
  }

  /** Returns a short label for messages: {@code GPU 3 (GPU-1a2b..., 00000000:5D:00.0)}. */
  public static String label(Component c) {
    return "GPU " + c.getGpuIndex() + " (" + c.getGpuUuid() + (c.getPciBusId().isEmpty() ? "" : ", " + c.getPciBusId()) + ")";
  }

  /** Returns the component for the node as a whole. */
  public static Component node() {
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_NODE).build();
  }
}
