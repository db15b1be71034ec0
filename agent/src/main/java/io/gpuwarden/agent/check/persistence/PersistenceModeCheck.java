package io.gpuwarden.agent.check.persistence;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.List;

/**
 * Persistence mode off: without it (or nvidia-persistenced) the driver tears a GPU down when its
 * last client exits and every job start pays the re-initialisation (1–3 s per GPU, ECC scrubbing).
 * DEGRADED by default; configure HEALTHY to turn the finding off.
 */
public final class PersistenceModeCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "persistence-mode";

  private final HealthState offState;

  /** Creates the check; {@code offState} is the state of a GPU with persistence off. */
  public PersistenceModeCheck(HealthState offState) {
    this.offState = offState;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    if (offState == HealthState.HEALTH_STATE_HEALTHY) {
      return out;
    }
    for (GpuSample s : host.gpus()) {
      if (s.hasPersistenceMode() && !s.getPersistenceMode()) {
        out.add(new Finding(offState, host.gpu(s.getGpuUuid()), HostSnapshot.label(host.gpu(s.getGpuUuid()))
            + " has persistence mode off (enable nvidia-persistenced)", SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION));
      }
    }
    return out;
  }
}
