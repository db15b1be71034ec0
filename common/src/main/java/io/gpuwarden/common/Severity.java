package io.gpuwarden.common;

import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;

/**
 * The one order of health states and of suggested actions, shared by the agent's checks, the
 * collector's verdicts and the CLI's tables, so that "worst" and "most urgent" mean the same
 * everywhere.
 *
 * <pre>{@code
 * if (Severity.rank(check.getState()) > Severity.rank(worst)) { worst = check.getState(); }
 * }</pre>
 */
public final class Severity {
  private Severity() {}

  /**
   * Severity order of states: HEALTHY 0, DEGRADED 1, UNKNOWN 2, UNHEALTHY 3. UNKNOWN ranks above
   * DEGRADED: a node that cannot be judged must not look usable.
   */
  public static int rank(HealthState s) {
    return switch (s) {
      case HEALTH_STATE_HEALTHY -> 0;
      case HEALTH_STATE_DEGRADED -> 1;
      case HEALTH_STATE_UNKNOWN -> 2;
      case HEALTH_STATE_UNHEALTHY -> 3;
      default -> 2;
    };
  }

  /** Returns the worse of two states. */
  public static HealthState worse(HealthState a, HealthState b) {
    return rank(b) > rank(a) ? b : a;
  }

  /** Orders actions by urgency: hardware inspection > reboot > reset > fabric > restart app > config > none. */
  public static int urgency(SuggestedAction a) {
    return switch (a) {
      case SUGGESTED_ACTION_HARDWARE_INSPECTION -> 6;
      case SUGGESTED_ACTION_REBOOT_NODE -> 5;
      case SUGGESTED_ACTION_RESET_GPU -> 4;
      case SUGGESTED_ACTION_CHECK_FABRIC -> 3;
      case SUGGESTED_ACTION_RESTART_APPLICATION -> 2;
      case SUGGESTED_ACTION_CHECK_CONFIGURATION -> 1;
      default -> 0;
    };
  }
}
