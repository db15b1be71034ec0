package io.gpuwarden.agent.check.pcie;

import io.gpuwarden.agent.check.CounterRate;
import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The GPU's PCIe link: narrower than its maximum width (a bad riser, slot or retimer: DEGRADED),
 * slower than its maximum generation while the GPU is busy (GPUs lower the generation when idle to
 * save power, so only a busy GPU is judged), and a replay rate above {@code replaysPerMinute} (DCGM's
 * limit is 8 per minute) — each DEGRADED with hardware inspection.
 */
public final class PcieCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "pcie";
  /** Utilisation at or above which a GPU counts as busy for the generation check. */
  public static final int BUSY_PERCENT = 10;

  private final double replaysPerMinute;
  private final CounterRate replays = new CounterRate(Duration.ofMinutes(1), Duration.ofSeconds(10));

  /** Creates the check. */
  public PcieCheck(double replaysPerMinute) {
    this.replaysPerMinute = replaysPerMinute;
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
      if (s.hasPcieLinkWidth() && s.hasPcieLinkWidthMax() && s.getPcieLinkWidth() < s.getPcieLinkWidthMax()) {
        out.add(Finding.degraded(c, gpu + " PCIe link is x" + s.getPcieLinkWidth() + ", below its maximum x"
            + s.getPcieLinkWidthMax(), SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      }
      boolean busy = s.hasUtilizationGpuPercent() && s.getUtilizationGpuPercent() >= BUSY_PERCENT;
      if (busy && s.hasPcieLinkGeneration() && s.hasPcieLinkGenerationMax()
          && s.getPcieLinkGeneration() < s.getPcieLinkGenerationMax()) {
        out.add(Finding.degraded(c, gpu + " PCIe link runs at gen " + s.getPcieLinkGeneration() + " of gen "
            + s.getPcieLinkGenerationMax() + " while " + s.getUtilizationGpuPercent() + "% busy",
            SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      }
      if (s.hasPcieReplayCount()) {
        OptionalDouble perSecond = replays.add(s.getGpuUuid(), host.time(), s.getPcieReplayCount());
        if (perSecond.isPresent() && perSecond.getAsDouble() * 60 > replaysPerMinute) {
          out.add(Finding.degraded(c, String.format(Locale.ROOT, "%s PCIe replays at %.1f/min, above %.0f/min (counter %d)",
              gpu, perSecond.getAsDouble() * 60, replaysPerMinute, s.getPcieReplayCount()),
              SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
        }
      }
    }
    return out;
  }
}
