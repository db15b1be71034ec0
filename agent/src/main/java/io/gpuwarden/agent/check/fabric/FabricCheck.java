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
 * summary of UNHEALTHY is UNHEALTHY and LIMITED_CAPACITY is DEGRADED. GPUs without fabric support
 * are not judged.
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
      }
    }
    return out;
  }
}
