package io.gpuwarden.agent.check;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;

/**
 * One thing a check found wrong (or could not judge): its state, the component, a specific
 * message and what to do. A healthy check reports no findings.
 *
 * @param state DEGRADED, UNHEALTHY or UNKNOWN
 * @param component what it is about
 * @param message specific and human-readable, naming the GPU and the numbers
 * @param action what to do about it
 */
public record Finding(HealthState state, Component component, String message, SuggestedAction action) {
  /** Validates. */
  public Finding {
    requireNonNull(state, "state");
    requireNonNull(component, "component");
    requireNonNull(message, "message");
    requireNonNull(action, "action");
    if (state == HealthState.HEALTH_STATE_HEALTHY || state == HealthState.HEALTH_STATE_UNSPECIFIED) {
      throw new IllegalArgumentException("a finding is DEGRADED, UNHEALTHY or UNKNOWN, not " + state);
    }
  }

  /** An UNHEALTHY finding. */
  public static Finding unhealthy(Component component, String message, SuggestedAction action) {
    return new Finding(HealthState.HEALTH_STATE_UNHEALTHY, component, message, action);
  }

  /** A DEGRADED finding. */
  public static Finding degraded(Component component, String message, SuggestedAction action) {
    return new Finding(HealthState.HEALTH_STATE_DEGRADED, component, message, action);
  }

  /** An UNKNOWN finding: the check could not judge this component. */
  public static Finding unknown(Component component, String message) {
    return new Finding(HealthState.HEALTH_STATE_UNKNOWN, component, message, SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION);
  }
}
