package io.gpuwarden.agent.check.nvlink;

import io.gpuwarden.agent.check.CounterRate;
import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.NvlinkSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * NVLink links: a link that is down is UNHEALTHY (collectives over it fail or crawl; a reset or
 * reboot retrains it). Replay plus recovery errors above {@code replayRecoveryPerMinute} (DCGM: any)
 * or CRC errors above {@code crcPerSecond} (DCGM: 100/s) make the link DEGRADED.
 */
public final class NvlinkCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "nvlink";

  private final double replayRecoveryPerMinute;
  private final double crcPerSecond;
  private final CounterRate rates = new CounterRate(Duration.ofMinutes(1), Duration.ofSeconds(10));
  /** Each GPU's counters by link: replay+recovery at 2 * link, CRC at 2 * link + 1; kept to skip a key and lookup per reading. */
  private final java.util.Map<String, CounterRate.Counter[]> counters = new java.util.HashMap<>();

  /** Creates the check. */
  public NvlinkCheck(double replayRecoveryPerMinute, double crcPerSecond) {
    this.replayRecoveryPerMinute = replayRecoveryPerMinute;
    this.crcPerSecond = crcPerSecond;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    for (GpuSample s : host.gpus()) {
      Component gpu = null; // built only for a finding: most cycles have none
      for (NvlinkSample l : s.getNvlinksList()) {
        OptionalDouble rr = OptionalDouble.empty();
        OptionalDouble crc = OptionalDouble.empty();
        if (l.getActive()) {
          rr = counter(s.getGpuUuid(), l.getLink(), 0).add(host.time(), l.getReplayErrors() + l.getRecoveryErrors());
          crc = counter(s.getGpuUuid(), l.getLink(), 1).add(host.time(), l.getCrcFlitErrors() + l.getCrcDataErrors());
        }
        boolean rrHigh = rr.isPresent() && rr.getAsDouble() * 60 >= replayRecoveryPerMinute && rr.getAsDouble() > 0;
        boolean crcHigh = crc.isPresent() && crc.getAsDouble() > crcPerSecond;
        if (l.getActive() && !rrHigh && !crcHigh) {
          continue;
        }
        gpu = gpu == null ? host.gpu(s.getGpuUuid()) : gpu;
        Component c = gpu.toBuilder().setKind(ComponentKind.COMPONENT_KIND_NVLINK).setNvlink(l.getLink()).build();
        String label = "NVLink " + l.getLink() + " of " + HostSnapshot.label(gpu);
        if (!l.getActive()) {
          out.add(Finding.unhealthy(c, label + " is down", SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
          continue;
        }
        if (rrHigh) {
          out.add(Finding.degraded(c, String.format(Locale.ROOT, "%s has %.1f replay+recovery errors/min (limit %.0f/min)",
              label, rr.getAsDouble() * 60, replayRecoveryPerMinute), SuggestedAction.SUGGESTED_ACTION_RESET_GPU));
        }
        if (crcHigh) {
          out.add(Finding.degraded(c, String.format(Locale.ROOT, "%s has %.0f CRC errors/s (limit %.0f/s)",
              label, crc.getAsDouble(), crcPerSecond), SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
        }
      }
    }
    return out;
  }

  /** Returns the counter of {@code gpu}'s {@code link}: replay+recovery ({@code which} 0) or CRC (1). */
  private CounterRate.Counter counter(String gpu, int link, int which) {
    int i = 2 * link + which;
    CounterRate.Counter[] byLink = counters.get(gpu);
    if (byLink == null || i >= byLink.length) {
      byLink = byLink == null ? new CounterRate.Counter[Math.max(36, i + 1)] : java.util.Arrays.copyOf(byLink, Math.max(2 * byLink.length, i + 1));
      counters.put(gpu, byLink);
    }
    if (byLink[i] == null) {
      byLink[i] = rates.counter(gpu + "/" + link + (which == 0 ? "/rr" : "/crc"));
    }
    return byLink[i];
  }
}
