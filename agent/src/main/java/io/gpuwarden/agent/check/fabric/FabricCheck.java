package io.gpuwarden.agent.check.fabric;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.FabricHealth;
import io.gpuwarden.proto.v1.FabricInfo;
import io.gpuwarden.proto.v1.FabricState;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * NVLink fabric registration on NVSwitch systems (Hopper and later): a GPU whose fabric probe has
 * not completed {@code grace} after the agent started cannot join the NVLink domain (UNHEALTHY,
 * check fabric manager / NVSwitch); a completed probe with a failing status is UNHEALTHY; a health
 * summary of UNHEALTHY is UNHEALTHY and LIMITED_CAPACITY is DEGRADED. Drivers before R580 have no
 * summary (fabric info v2 carries only the health mask): there an unhealthy route is UNHEALTHY and
 * degraded bandwidth DEGRADED, read from the mask. Drivers before R550 report neither (fabric info
 * v1), so only the probe is judged. GPUs without fabric support are not judged.
 */
public final class FabricCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "fabric";

  private final Duration grace;
  private final Instant started;

  /** Creates the check; the grace period runs from {@code started}. */
  public FabricCheck(Duration grace, Instant started) {
    this.grace = grace;
    this.started = started;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    for (GpuSample s : host.gpus()) {
      if (!s.hasFabric()) {
        continue;
      }
      FabricInfo f = s.getFabric();
      Component c = host.gpu(s.getGpuUuid());
      String gpu = HostSnapshot.label(c);
      FabricState state = f.getState();
      if (state == FabricState.FABRIC_STATE_NOT_STARTED || state == FabricState.FABRIC_STATE_IN_PROGRESS) {
        if (!host.time().isBefore(started.plus(grace))) {
          out.add(Finding.unhealthy(c, gpu + " fabric probe is " + (state == FabricState.FABRIC_STATE_NOT_STARTED
              ? "not started" : "still in progress") + " " + grace.toSeconds() + " s after start-up; is the fabric manager running?",
              SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        }
        continue;
      }
      if (state != FabricState.FABRIC_STATE_COMPLETED) {
        continue;
      }
      if (f.getStatus() != 0) {
        out.add(Finding.unhealthy(c, gpu + " fabric probe completed with " + f.getStatusName() + " (" + f.getStatus() + ")",
            SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
      } else if (f.getHealth() == FabricHealth.FABRIC_HEALTH_UNHEALTHY) {
        out.add(Finding.unhealthy(c, String.format("%s fabric health is UNHEALTHY (mask 0x%x)", gpu, f.getHealthMask()),
            SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
      } else if (f.getHealth() == FabricHealth.FABRIC_HEALTH_LIMITED_CAPACITY) {
        out.add(Finding.degraded(c, String.format("%s fabric runs at limited capacity (mask 0x%x)", gpu, f.getHealthMask()),
            SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
      } else if (f.getHealth() != FabricHealth.FABRIC_HEALTH_HEALTHY) {
        judgeMask(f.getHealthMask(), c, gpu, out);
      }
    }
    return out;
  }

  /** NVML_GPU_FABRIC_HEALTH_MASK_SHIFT_DEGRADED_BW: 2-bit flag, 0 not supported, 1 true, 2 false. */
  private static final int DEGRADED_BANDWIDTH_SHIFT = 0;
  /** NVML_GPU_FABRIC_HEALTH_MASK_SHIFT_ROUTE_UNHEALTHY (R570 and later). */
  private static final int ROUTE_UNHEALTHY_SHIFT = 4;

  private static boolean flagTrue(int mask, int shift) {
    return ((mask >>> shift) & 0x3) == 1;
  }

  /** Without a summary (drivers before R580): the mask's flags a driver reports as true; unreported flags (0) say nothing. */
  private static void judgeMask(int mask, Component c, String gpu, List<Finding> out) {
    if (flagTrue(mask, ROUTE_UNHEALTHY_SHIFT)) {
      out.add(Finding.unhealthy(c, String.format("%s fabric route is unhealthy (mask 0x%x; this driver reports no health summary)",
          gpu, mask), SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
    } else if (flagTrue(mask, DEGRADED_BANDWIDTH_SHIFT)) {
      out.add(Finding.degraded(c, String.format("%s fabric bandwidth is degraded (mask 0x%x; this driver reports no health summary)",
          gpu, mask), SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
    }
  }
}
