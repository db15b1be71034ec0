package io.gpuwarden.agent.check.kernel;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Judges the host by what the kernel log classifier found besides Xids (those are the
 * {@code xid} check's): NVSwitch SXids, PCIe AER, machine checks, EDAC and firmware error records,
 * mlx5 firmware health, a GPU that fell off the bus, hung tasks, disk and NVMe errors.
 *
 * <ul>
 *   <li>A CRITICAL match (fatal SXid, fatal AER or failed AER recovery, GPU fallen off the bus,
 *       mlx5 recovery that failed, NVMe controller removed) makes its component UNHEALTHY until the
 *       host reboots: the hardware is not usable again without one.
 *   <li>An ERROR match (non-fatal uncorrected AER, uncorrected MCE/CPER/EDAC, mlx5 health, hung
 *       task, medium and I/O errors) makes it DEGRADED for {@code errorHold} after its last occurrence.
 *   <li>WARNING and INFO matches (corrected errors, link up/down, OOM kills) are events only.
 * </ul>
 *
 * Active findings are kept in the {@link StateStore} per boot, so an agent restart (which resumes
 * the kernel log after the last line handled) forgets nothing. Repeats are counted, not re-judged.
 */
public final class KernelLogCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "kernel-log";
  /** Default time an ERROR match holds its component DEGRADED. */
  public static final Duration DEFAULT_ERROR_HOLD = Duration.ofHours(1);
  private static final String ACTIVE = "klog.active/";
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final Duration errorHold;
  private final StateStore state;

  /** Creates the check. */
  public KernelLogCheck(Duration errorHold, StateStore state) {
    if (errorHold.isNegative() || errorHold.isZero()) {
      throw new IllegalArgumentException("kernel-log error hold must be positive, got " + errorHold);
    }
    this.errorHold = errorHold;
    this.state = state;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    String prefix = ACTIVE + host.bootId() + "/";
    for (String key : state.withPrefix(ACTIVE).keySet()) {
      if (!key.startsWith(prefix)) {
        state.put(key, null); // a reboot clears everything of the old boot
      }
    }
    for (Event e : host.events()) {
      if ((e.hasSxid() || e.hasLogMatch()) && stateOf(e.getSeverity()) != HealthState.HEALTH_STATE_HEALTHY) {
        record(prefix, e, host.time());
      }
    }
    List<Finding> out = new ArrayList<>();
    for (Map.Entry<String, String> entry : state.withPrefix(prefix).entrySet()) {
      String[] v = entry.getValue().split("\\|", 7);
      long first = Long.parseLong(v[0]);
      long last = Long.parseLong(v[1]);
      long count = Long.parseLong(v[2]);
      HealthState s = HealthState.valueOf(v[3]);
      if (s == HealthState.HEALTH_STATE_DEGRADED && host.time().isAfter(Instant.ofEpochMilli(last).plus(errorHold))) {
        state.put(entry.getKey(), null);
        continue;
      }
      Component component;
      try {
        component = Component.parseFrom(B64D.decode(v[5]));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        component = HostSnapshot.node();
      }
      String message = new String(B64D.decode(v[6]), StandardCharsets.UTF_8)
          + " (" + count + (count == 1 ? " time" : " times") + ", first " + TIME.format(Instant.ofEpochMilli(first))
          + (count > 1 ? ", last " + TIME.format(Instant.ofEpochMilli(last)) : "")
          + "; clears " + (s == HealthState.HEALTH_STATE_UNHEALTHY ? "on reboot"
              : "after " + human(errorHold) + " without another") + ")";
      out.add(new Finding(s, component, message, SuggestedAction.valueOf(v[4])));
    }
    state.flush();
    return out;
  }

  private void record(String prefix, Event e, Instant now) {
    String rule = e.hasLogMatch() ? e.getLogMatch().getRule() : "sxid-" + e.getSxid().getSxid();
    Component c = e.getComponent();
    String key = prefix + rule + "/" + B64.encodeToString(c.toByteArray());
    long t = e.hasTime() ? e.getTime().getSeconds() * 1000 + e.getTime().getNanos() / 1_000_000 : now.toEpochMilli();
    String msg = B64.encodeToString(e.getMessage().getBytes(StandardCharsets.UTF_8));
    String[] v = state.get(key).map(s -> s.split("\\|", 7)).orElse(null);
    String head = v == null ? t + "|" + t + "|1"
        : Math.min(t, Long.parseLong(v[0])) + "|" + Math.max(t, Long.parseLong(v[1])) + "|" + (Long.parseLong(v[2]) + 1);
    state.put(key, head + "|" + stateOf(e.getSeverity()).name() + "|" + e.getAction().name() + "|"
        + B64.encodeToString(c.toByteArray()) + "|" + msg);
  }

  /** Returns the state a kernel log match of {@code severity} puts its component in. */
  public static HealthState stateOf(EventSeverity severity) {
    return switch (severity) {
      case EVENT_SEVERITY_CRITICAL -> HealthState.HEALTH_STATE_UNHEALTHY;
      case EVENT_SEVERITY_ERROR -> HealthState.HEALTH_STATE_DEGRADED;
      default -> HealthState.HEALTH_STATE_HEALTHY;
    };
  }

  private static String human(Duration d) {
    return d.toHours() > 0 && d.toMinutesPart() == 0 ? d.toHours() + " h"
        : d.toMinutes() > 0 && d.toSecondsPart() == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
  }
}
