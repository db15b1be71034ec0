package io.gpuwarden.agent.check.gpucount;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Are all the GPUs there and answering? Compares NVML's device count with the expected count (from
 * configuration, else the first inventory this agent saw on this boot, remembered across agent
 * restarts), and reports every GPU that is lost ({@code GPU_IS_LOST}) or did not answer in time.
 * Missing, lost and hung GPUs need a node reboot (a reset cannot reach a GPU that fell off the bus).
 */
public final class GpuCountCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "gpu-count";

  private final OptionalInt configured;
  private final StateStore state;

  /** Creates the check; {@code configured} overrides the first-inventory rule. */
  public GpuCountCheck(OptionalInt configured, StateStore state) {
    this.configured = configured;
    this.state = state;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    int expected;
    String source;
    if (configured.isPresent()) {
      expected = configured.getAsInt();
      source = "configured";
    } else {
      String key = "gpu-count.first-inventory." + host.bootId();
      if (state.get(key).isEmpty() && host.nvmlFailure().isEmpty()) {
        state.put(key, Integer.toString(host.inventory().size()));
      }
      expected = state.get(key).map(Integer::parseInt).orElse(-1);
      source = "first inventory on this boot";
    }
    if (host.nvmlFailure().isPresent()) {
      String msg = "NVML is unusable: " + host.nvmlFailure().get();
      out.add(expected > 0
          ? Finding.unhealthy(HostSnapshot.node(), msg + " (expected " + expected + " GPUs, " + source + ")",
              SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE)
          : Finding.unknown(HostSnapshot.node(), msg));
      return out;
    }
    OptionalInt count = host.deviceCount();
    if (count.isPresent() && count.getAsInt() < expected) {
      out.add(Finding.unhealthy(HostSnapshot.node(),
          "NVML counts " + count.getAsInt() + " GPUs, expected " + expected + " (" + source + ")",
          SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
    } else if (count.isEmpty() && host.inventory().size() < expected) {
      out.add(Finding.unhealthy(HostSnapshot.node(),
          host.inventory().size() + " GPUs could be opened, expected " + expected + " (" + source + ")",
          SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
    }
    for (GpuSample s : host.gpus()) {
      if (s.getLost()) {
        out.add(Finding.unhealthy(host.gpu(s.getGpuUuid()),
            HostSnapshot.label(host.gpu(s.getGpuUuid())) + " is lost: " + s.getUnavailableReason(),
            SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
      } else if (s.getUnresponsive()) {
        out.add(Finding.unhealthy(host.gpu(s.getGpuUuid()),
            HostSnapshot.label(host.gpu(s.getGpuUuid())) + " is unresponsive: " + s.getUnavailableReason(),
            SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
      }
    }
    return out;
  }
}
