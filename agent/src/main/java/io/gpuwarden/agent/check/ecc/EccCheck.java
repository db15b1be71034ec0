package io.gpuwarden.agent.check.ecc;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.List;

/**
 * GPU memory health: uncorrectable ECC errors since the driver loaded, retired-page limits
 * (pre-Ampere dynamic page retirement) and row remapping (Ampere and later).
 *
 * <ul>
 *   <li>volatile uncorrected ECC &gt; 0: UNHEALTHY, reset the GPU (DCGM VOLATILE_DBE_DETECTED);
 *   <li>retired pages SBE + DBE &ge; limit (63): UNHEALTHY, hardware inspection (DCGM RETIRED_PAGES_LIMIT);
 *   <li>DBE-retired pages &ge; limit (15): UNHEALTHY, hardware inspection (DCGM RETIRED_PAGES_DBE_LIMIT);
 *   <li>page retirement pending: DEGRADED, reset the GPU (DCGM PENDING_PAGE_RETIREMENTS);
 *   <li>row remap pending: DEGRADED, reset the GPU (DCGM PENDING_ROW_REMAP);
 *   <li>row remap failure: UNHEALTHY, hardware inspection / RMA (DCGM ROW_REMAP_FAILURE).
 * </ul>
 * Values NVML does not support (ECC off, GeForce, MIG) are simply absent and judged healthy.
 */
public final class EccCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "ecc";

  private final long retiredPagesLimit;
  private final long retiredPagesDbeLimit;

  /** Creates the check with the retired-page limits. */
  public EccCheck(long retiredPagesLimit, long retiredPagesDbeLimit) {
    this.retiredPagesLimit = retiredPagesLimit;
    this.retiredPagesDbeLimit = retiredPagesDbeLimit;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    for (GpuSample s : host.gpus()) {
      Component c = host.gpu(s.getGpuUuid());
      String gpu = HostSnapshot.label(c);
      if (s.hasEccUncorrectedVolatile() && s.getEccUncorrectedVolatile() > 0) {
        out.add(Finding.unhealthy(c, gpu + " has " + s.getEccUncorrectedVolatile()
            + " uncorrectable ECC errors since the driver loaded", SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
      }
      long sbe = s.hasRetiredPagesSbe() ? s.getRetiredPagesSbe() : 0;
      long dbe = s.hasRetiredPagesDbe() ? s.getRetiredPagesDbe() : 0;
      if (sbe + dbe >= retiredPagesLimit) {
        out.add(Finding.unhealthy(c, gpu + " has " + (sbe + dbe) + " retired pages (" + sbe + " SBE, " + dbe
            + " DBE), at or above the limit of " + retiredPagesLimit, SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      } else if (dbe >= retiredPagesDbeLimit) {
        out.add(Finding.unhealthy(c, gpu + " has " + dbe + " pages retired for double-bit errors, at or above the limit of "
            + retiredPagesDbeLimit, SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      }
      if (s.hasRetiredPagesPending() && s.getRetiredPagesPending()) {
        out.add(Finding.degraded(c, gpu + " has a page retirement pending; it takes effect after a GPU reset",
            SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
      }
      if (s.hasRemapFailure() && s.getRemapFailure()) {
        out.add(Finding.unhealthy(c, gpu + " failed to remap a memory row (no spare rows left; "
            + s.getRemappedRowsUncorrected() + " rows remapped for uncorrectable errors, " + s.getRemappedRowsCorrected()
            + " for correctable)", SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      } else if (s.hasRemapPending() && s.getRemapPending()) {
        out.add(Finding.degraded(c, gpu + " has a row remap pending; it takes effect after a GPU reset",
            SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
      }
    }
    return out;
  }
}
