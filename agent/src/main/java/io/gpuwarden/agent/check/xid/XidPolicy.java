package io.gpuwarden.agent.check.xid;

import static io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_DEGRADED;
import static io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_HEALTHY;
import static io.gpuwarden.proto.v1.HealthState.HEALTH_STATE_UNHEALTHY;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_NONE;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_RESET_GPU;
import static io.gpuwarden.proto.v1.SuggestedAction.SUGGESTED_ACTION_RESTART_APPLICATION;

import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The Xid policy table: for each Xid its state, action and what clears it, plus an ignore list and
 * the rule for Xids the table does not know. The defaults follow NVIDIA's Xid catalog (Ampere and
 * later, "immediate" resolution bucket); {@code agent/CHECKS.md} lists them with the reasoning.
 *
 * <pre>{@code
 * XidPolicy policy = XidPolicy.defaults().with(new XidRule(13, "GR_EXCEPTION", HEALTH_STATE_DEGRADED,
 *     SUGGESTED_ACTION_RESET_GPU, XidClearing.GPU_RESET)).ignoring(Set.of(43));
 * }</pre>
 */
public final class XidPolicy {
  private final Map<Integer, XidRule> rules;
  private final Set<Integer> ignored;

  private XidPolicy(Map<Integer, XidRule> rules, Set<Integer> ignored) {
    this.rules = Map.copyOf(rules);
    this.ignored = Set.copyOf(ignored);
  }

  /** Returns the default table. */
  public static XidPolicy defaults() {
    Map<Integer, XidRule> t = new TreeMap<>();
    // Application faults: the job failed, the GPU is fine. Reported as events, never judged.
    app(t, 8, "FIFO_ERROR_IDLE_TIMEOUT");
    app(t, 13, "GR_EXCEPTION");
    app(t, 31, "FIFO_ERROR_MMU_ERR_FLT");
    app(t, 32, "PBDMA_ERROR");
    app(t, 45, "PREEMPTIVE_REMOVAL");
    app(t, 68, "NVDEC0_EXCEPTION");
    app(t, 69, "GR_CLASS_ERROR");
    app(t, 94, "CONTAINED_ERROR");
    // Catalog says IGNORE.
    info(t, 38, "FECS_ERR_WATCHDOG_TIMEOUT");
    info(t, 43, "RESETCHANNEL_VERIF_ERROR");
    info(t, 63, "INFOROM_DRAM_RETIREMENT_EVENT");
    info(t, 92, "EXCESSIVE_SBE_INTERRUPTS");
    info(t, 121, "C2C_ERROR");
    info(t, 154, "GPU_RECOVERY_ACTION_CHANGED");
    // Catalog says RESET_GPU: unhealthy until the GPU is reset (or the node rebooted).
    reset(t, 48, "GPU_ECC_DBE");
    reset(t, 62, "PMU_HALT_ERROR");
    reset(t, 64, "INFOROM_DRAM_RETIREMENT_FAILURE");
    reset(t, 74, "NVLINK_ERROR");
    reset(t, 95, "UNCONTAINED_ERROR");
    reset(t, 109, "CTXSW_TIMEOUT_ERROR");
    reset(t, 119, "GSP_RPC_TIMEOUT");
    reset(t, 120, "GSP_ERROR");
    reset(t, 136, "ALI_TRAINING_FAIL");
    reset(t, 140, "UNRECOVERABLE_ECC_ERROR_ESCAPE");
    reset(t, 143, "GPU_INIT_ERROR");
    reset(t, 149, "NVLINK_NETIR_ERROR");
    // NVLink5 (Blackwell) errors whose sub-code decides between ignore and reset: degraded until reset.
    for (int x : new int[] {144, 145, 146, 147, 148, 150}) {
      t.put(x, new XidRule(x, "NVLINK5_ERROR", HEALTH_STATE_DEGRADED, SUGGESTED_ACTION_RESET_GPU, XidClearing.GPU_RESET));
    }
    // Catalog says reboot the node (RESTART_BM).
    t.put(79, new XidRule(79, "GPU_HAS_FALLEN_OFF_THE_BUS", HEALTH_STATE_UNHEALTHY, SUGGESTED_ACTION_REBOOT_NODE,
        XidClearing.REBOOT));
    // Unused on Ampere+; seeing one means something unexpected: contact support.
    for (int x : new int[] {56, 57, 61, 122, 123}) {
      t.put(x, new XidRule(x, "UNUSED_ON_AMPERE", HEALTH_STATE_DEGRADED, SUGGESTED_ACTION_HARDWARE_INSPECTION,
          XidClearing.REBOOT));
    }
    return new XidPolicy(t, Set.of());
  }

  private static void app(Map<Integer, XidRule> t, int xid, String name) {
    t.put(xid, new XidRule(xid, name, HEALTH_STATE_HEALTHY, SUGGESTED_ACTION_RESTART_APPLICATION, XidClearing.EVENT_ONLY));
  }

  private static void info(Map<Integer, XidRule> t, int xid, String name) {
    t.put(xid, new XidRule(xid, name, HEALTH_STATE_HEALTHY, SUGGESTED_ACTION_NONE, XidClearing.EVENT_ONLY));
  }

  private static void reset(Map<Integer, XidRule> t, int xid, String name) {
    t.put(xid, new XidRule(xid, name, HEALTH_STATE_UNHEALTHY, SUGGESTED_ACTION_RESET_GPU, XidClearing.GPU_RESET));
  }

  /** Returns a copy with {@code rule} replacing the rule of its Xid. */
  public XidPolicy with(XidRule rule) {
    Map<Integer, XidRule> t = new TreeMap<>(rules);
    t.put(rule.xid(), rule);
    return new XidPolicy(t, ignored);
  }

  /** Returns a copy that ignores these Xids entirely (no event, no state). */
  public XidPolicy ignoring(Set<Integer> xids) {
    return new XidPolicy(rules, xids);
  }

  /** Returns true when {@code xid} is on the ignore list. */
  public boolean ignores(int xid) {
    return ignored.contains(xid);
  }

  /**
   * Returns the rule for {@code xid}. An Xid the table does not know (including NVML's 999, "unknown
   * Xid") makes the GPU DEGRADED until reset, so it is looked at rather than silently passed.
   */
  public XidRule rule(int xid) {
    XidRule r = rules.get(xid);
    if (r != null) {
      return r;
    }
    return new XidRule(xid, xid == 999 ? "UNKNOWN_XID" : "NOT_IN_POLICY_TABLE", HealthState.HEALTH_STATE_DEGRADED,
        SuggestedAction.SUGGESTED_ACTION_RESET_GPU, XidClearing.GPU_RESET);
  }

  /** Returns every rule of the table, by Xid. */
  public Map<Integer, XidRule> rules() {
    return new TreeMap<>(rules);
  }
}
