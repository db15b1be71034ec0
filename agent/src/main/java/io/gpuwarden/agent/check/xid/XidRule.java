package io.gpuwarden.agent.check.xid;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;

/**
 * How one Xid is judged.
 *
 * @param xid the Xid number
 * @param mnemonic NVIDIA's name for it, e.g. {@code GPU_HAS_FALLEN_OFF_THE_BUS}
 * @param state the GPU's state while the condition holds (HEALTHY for event-only Xids)
 * @param action what to do
 * @param clearing what clears it
 */
public record XidRule(int xid, String mnemonic, HealthState state, SuggestedAction action, XidClearing clearing) {
  /** Validates. */
  public XidRule {
    requireNonNull(mnemonic, "mnemonic");
    requireNonNull(state, "state");
    requireNonNull(action, "action");
    requireNonNull(clearing, "clearing");
    if (xid < 0) {
      throw new IllegalArgumentException("xid must be >= 0, got " + xid);
    }
    if (clearing == XidClearing.EVENT_ONLY && state != HealthState.HEALTH_STATE_HEALTHY) {
      throw new IllegalArgumentException("Xid " + xid + ": an event-only rule cannot make the GPU " + state);
    }
  }
}
