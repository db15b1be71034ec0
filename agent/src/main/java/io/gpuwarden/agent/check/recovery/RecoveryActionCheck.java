package io.gpuwarden.agent.check.recovery;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.List;

/**
 * The driver's own verdict: NVML's GPU recovery action (field 230, the summary Xid 154 announces).
 * NODE_REBOOT is UNHEALTHY with a reboot, GPU_RESET and DRAIN_AND_RESET are UNHEALTHY with a
 * reset, DRAIN_P2P is DEGRADED, RECOVER_IMEX_DOMAIN is DEGRADED with a fabric check.
 */
public final class RecoveryActionCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "recovery-action";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    for (GpuSample s : host.gpus()) {
      Component c = host.gpu(s.getGpuUuid());
      String says = HostSnapshot.label(c) + ": the driver's recovery action is ";
      switch (s.getRecoveryAction()) {
        case GPU_RECOVERY_ACTION_NODE_REBOOT ->
            out.add(Finding.unhealthy(c, says + "NODE_REBOOT", SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE));
        case GPU_RECOVERY_ACTION_GPU_RESET ->
            out.add(Finding.unhealthy(c, says + "GPU_RESET", SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
        case GPU_RECOVERY_ACTION_DRAIN_AND_RESET ->
            out.add(Finding.unhealthy(c, says + "DRAIN_AND_RESET", SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
        case GPU_RECOVERY_ACTION_DRAIN_P2P ->
            out.add(Finding.degraded(c, says + "DRAIN_P2P", SuggestedAction.SUGGESTED_ACTION_RESTART_APPLICATION));
        case GPU_RECOVERY_ACTION_RECOVER_IMEX_DOMAIN ->
            out.add(Finding.degraded(c, says + "RECOVER_IMEX_DOMAIN", SuggestedAction.SUGGESTED_ACTION_CHECK_FABRIC));
        default -> {
          // NONE or not read
        }
      }
    }
    return out;
  }
}
