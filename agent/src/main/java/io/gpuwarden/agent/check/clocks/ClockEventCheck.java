package io.gpuwarden.agent.check.clocks;

import io.gpuwarden.agent.check.Finding;
import io.gpuwarden.agent.check.HealthCheck;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sustained hardware clock slowdown: a GPU whose clock-event reasons include HW_SLOWDOWN (0x8),
 * HW_THERMAL_SLOWDOWN (0x40) or HW_POWER_BRAKE_SLOWDOWN (0x80) in at least {@code fraction} of the
 * samples of the last {@code window} is DEGRADED: it runs slower than its peers and stalls every
 * collective it takes part in. Software caps (power cap, SW thermal) are normal operation and not
 * judged. A single sample (the one-shot {@code agent check}) counts as the whole window.
 */
public final class ClockEventCheck implements HealthCheck {
  /** Check name. */
  public static final String NAME = "clock-slowdown";
  /** The hardware slowdown reason bits. */
  public static final long HW_SLOWDOWN_MASK = 0x8 | 0x40 | 0x80;

  private final Duration window;
  private final double fraction;
  private final Map<String, Deque<Sample>> history = new HashMap<>();

  private record Sample(Instant time, long reasons) {}

  /** Creates the check. */
  public ClockEventCheck(Duration window, double fraction) {
    this.window = window;
    this.fraction = fraction;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public List<Finding> evaluate(HostSnapshot host) {
    List<Finding> out = new ArrayList<>();
    for (GpuSample s : host.gpus()) {
      if (!s.hasClockEventReasons()) {
        continue;
      }
      Deque<Sample> h = history.computeIfAbsent(s.getGpuUuid(), k -> new ArrayDeque<>());
      h.addLast(new Sample(host.time(), s.getClockEventReasons()));
      while (!h.isEmpty() && h.peekFirst().time().isBefore(host.time().minus(window))) {
        h.removeFirst();
      }
      long slowed = h.stream().filter(x -> (x.reasons() & HW_SLOWDOWN_MASK) != 0).count();
      if (slowed > 0 && slowed >= Math.ceil(fraction * h.size())) {
        long last = s.getClockEventReasons();
        out.add(Finding.degraded(host.gpu(s.getGpuUuid()), HostSnapshot.label(host.gpu(s.getGpuUuid()))
            + " is under hardware clock slowdown in " + slowed + " of " + h.size() + " samples over the last "
            + window.toSeconds() + " s (" + describe(last) + ")", SuggestedAction.SUGGESTED_ACTION_HARDWARE_INSPECTION));
      }
    }
    return out;
  }

  /** Names the hardware slowdown bits set in {@code reasons}. */
  static String describe(long reasons) {
    List<String> names = new ArrayList<>();
    if ((reasons & 0x8) != 0) {
      names.add("HW_SLOWDOWN");
    }
    if ((reasons & 0x40) != 0) {
      names.add("HW_THERMAL_SLOWDOWN");
    }
    if ((reasons & 0x80) != 0) {
      names.add("HW_POWER_BRAKE_SLOWDOWN");
    }
    return names.isEmpty() ? String.format("reasons 0x%x", reasons) : String.join(", ", names) + String.format(" now, reasons 0x%x", reasons);
  }
}
