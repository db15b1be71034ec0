package io.gpuwarden.agent.check.xid;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuRecoveryAction;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Judges GPUs by the Xids they raised, through the {@link XidPolicy}.
 *
 * <p>An Xid whose rule lasts ({@link XidClearing#GPU_RESET} or {@link XidClearing#REBOOT}) holds
 * its GPU in the rule's state until cleared: a reboot (new boot id) clears every Xid of the old
 * boot; a GPU reset clears reset-class Xids of that GPU. A reset is recognised when a GPU that was
 * lost or unresponsive answers again, or when NVML's recovery action goes from a reset to NONE.
 * Repeats are counted, not re-judged, so an Xid flood is one finding with a count. Active Xids and
 * the boots each reboot-class Xid was seen in are kept in the {@link StateStore}, so an agent
 * restart forgets nothing; a reboot-class Xid seen on the same GPU in {@code escalateAfterBoots}
 * boots escalates to hardware inspection, since rebooting did not fix it.
 */
public final class XidCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "xid";
  private static final String ACTIVE = "xid.active/";
  private static final String BOOTS = "xid.boots/";
  private static final int BOOTS_KEPT = 16;
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final XidPolicy policy;
  private final int escalateAfterBoots;
  private final StateStore state;
  private final Map<String, Boolean> wasAvailable = new HashMap<>();
  private final Map<String, GpuRecoveryAction> lastRecoveryAction = new HashMap<>();

  /** Creates the check. */
  public XidCheck(XidPolicy policy, int escalateAfterBoots, StateStore state) {
    this.policy = policy;
    this.escalateAfterBoots = escalateAfterBoots;
    this.state = state;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    forgetOtherBoots(host.bootId());
    clearResetGpus(host);
    for (Event e : host.events()) {
      if (e.hasXid()) {
        record(host, e);
      }
    }
    List<Finding> out = new ArrayList<>();
    String prefix = ACTIVE + host.bootId() + "/";
    for (Map.Entry<String, String> entry : state.withPrefix(prefix).entrySet()) {
      String[] key = entry.getKey().substring(prefix.length()).split("/");
      String gpuKey = key[0];
      int xid = Integer.parseInt(key[1]);
      String[] v = entry.getValue().split("\\|");
      long count = Long.parseLong(v[2]);
      XidRule rule = policy.rule(xid);
      if (rule.clearing() == XidClearing.EVENT_ONLY || policy.ignores(xid)) {
        continue; // the policy changed since it was recorded
      }
      Component c = component(host, gpuKey);
      String label = c.getGpuUuid().isEmpty() ? "GPU at " + c.getPciBusId() : HostSnapshot.label(c);
      String what = "Xid " + xid + " (" + rule.mnemonic() + ") on " + label + ": " + count + (count == 1 ? " time" : " times")
          + ", first " + TIME.format(Instant.ofEpochMilli(Long.parseLong(v[0])))
          + (count > 1 ? ", last " + TIME.format(Instant.ofEpochMilli(Long.parseLong(v[1]))) : "")
          + "; clears on " + (rule.clearing() == XidClearing.REBOOT ? "reboot" : "GPU reset or reboot");
      int boots = bootsSeen(gpuKey, xid).size();
      if (rule.clearing() == XidClearing.REBOOT && boots >= escalateAfterBoots) {
        out.add(Finding.unhealthy(c, what + "; seen in " + boots + " boots, rebooting does not fix it",
            SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      } else {
        out.add(new Finding(rule.state(), c, what, rule.action()));
      }
    }
    state.flush();
    return out;
  }

  private void record(HostSnapshot host, Event e) {
    int xid = e.getXid().getXid();
    XidRule rule = policy.rule(xid);
    if (policy.ignores(xid) || rule.clearing() == XidClearing.EVENT_ONLY) {
      return;
    }
    String gpuKey = gpuKey(e.getComponent());
    String key = ACTIVE + host.bootId() + "/" + gpuKey + "/" + xid;
    long t = e.hasTime() ? e.getTime().getSeconds() * 1000 + e.getTime().getNanos() / 1_000_000 : host.time().toEpochMilli();
    String[] v = state.get(key).map(s -> s.split("\\|")).orElse(null);
    if (v == null) {
      state.put(key, t + "|" + t + "|1");
    } else {
      state.put(key, v[0] + "|" + Math.max(t, Long.parseLong(v[1])) + "|" + (Long.parseLong(v[2]) + 1));
    }
    if (rule.clearing() == XidClearing.REBOOT) {
      Set<String> boots = bootsSeen(gpuKey, xid);
      if (boots.add(host.bootId())) {
        List<String> kept = new ArrayList<>(boots);
        state.put(BOOTS + gpuKey + "/" + xid,
            String.join(",", kept.subList(Math.max(0, kept.size() - BOOTS_KEPT), kept.size())));
      }
    }
  }

  private Set<String> bootsSeen(String gpuKey, int xid) {
    return state.get(BOOTS + gpuKey + "/" + xid)
        .map(s -> new LinkedHashSet<>(Arrays.asList(s.split(","))))
        .orElseGet(LinkedHashSet::new);
  }

  private void forgetOtherBoots(String bootId) {
    for (String key : state.withPrefix(ACTIVE).keySet()) {
      if (!key.startsWith(ACTIVE + bootId + "/")) {
        state.put(key, null);
      }
    }
  }

  private void clearResetGpus(HostSnapshot host) {
    for (GpuSample s : host.gpus()) {
      boolean available = !s.getLost() && !s.getUnresponsive();
      Boolean before = wasAvailable.put(s.getGpuUuid(), available);
      GpuRecoveryAction previous = lastRecoveryAction.put(s.getGpuUuid(), s.getRecoveryAction());
      boolean cameBack = Boolean.FALSE.equals(before) && available;
      boolean resetDone = (previous == GpuRecoveryAction.GPU_RECOVERY_ACTION_GPU_RESET
              || previous == GpuRecoveryAction.GPU_RECOVERY_ACTION_DRAIN_AND_RESET)
          && s.getRecoveryAction() == GpuRecoveryAction.GPU_RECOVERY_ACTION_NONE;
      if (cameBack || resetDone) {
        Component c = host.gpu(s.getGpuUuid());
        clearResetClass(host.bootId(), gpuKey(c));
        if (!c.getPciBusId().isEmpty()) {
          clearResetClass(host.bootId(), c.getPciBusId());
        }
      }
    }
  }

  private void clearResetClass(String bootId, String gpuKey) {
    String prefix = ACTIVE + bootId + "/" + gpuKey + "/";
    for (String key : state.withPrefix(prefix).keySet()) {
      int xid = Integer.parseInt(key.substring(prefix.length()));
      if (policy.rule(xid).clearing() == XidClearing.GPU_RESET) {
        state.put(key, null);
      }
    }
  }

  private static String gpuKey(Component c) {
    return !c.getGpuUuid().isEmpty() ? c.getGpuUuid() : c.getPciBusId();
  }

  private static Component component(HostSnapshot host, String gpuKey) {
    if (gpuKey.startsWith("GPU-") || gpuKey.startsWith("MIG-")) {
      return host.gpu(gpuKey);
    }
    return Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setPciBusId(gpuKey).build();
  }

  /** Returns the state an Xid makes its GPU, for callers that only have the number. */
  public HealthState stateOf(int xid) {
    return policy.ignores(xid) ? HealthState.HEALTH_STATE_HEALTHY : policy.rule(xid).state();
  }
}
