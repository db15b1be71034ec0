package io.gpuwarden.agent.check;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.agent.check.infiniband.InfinibandCheckConfig;
import io.gpuwarden.agent.check.kernel.KernelLogCheck;
import io.gpuwarden.proto.v1.HealthState;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Thresholds and switches of the built-in health checks, an immutable value. Every default and
 * its source is listed in {@code agent/CHECKS.md}.
 *
 * @param disabled names of checks not to run
 * @param expectedGpus GPUs the host must have; empty means "as many as the first inventory seen on
 *     this boot"
 * @param xidEscalateAfterBoots a reboot-class Xid seen on the same GPU in this many boots escalates
 *     to hardware inspection (default 3)
 * @param xidFloodWindow repeats of one Xid on one GPU within this window are counted, not re-reported
 * @param retiredPagesLimit retired pages (SBE + DBE) at which a GPU needs inspection (DCGM: 63)
 * @param retiredPagesDbeLimit DBE-retired pages at which a GPU needs inspection (DCGM soft limit: 15)
 * @param slowdownWindow window over which hardware clock slowdown is judged
 * @param slowdownFraction share of samples in the window with a hardware slowdown reason that makes
 *     the GPU degraded
 * @param pcieReplaysPerMinute PCIe replay rate above which the GPU is degraded (DCGM: 8/min)
 * @param nvlinkReplayRecoveryPerMinute NVLink replay+recovery errors per minute above which a link is
 *     degraded (DCGM: any, i.e. 1)
 * @param nvlinkCrcPerSecond NVLink CRC errors per second above which a link is degraded (DCGM: 100/s)
 * @param fabricProbeGrace how long a fabric probe may be NOT_STARTED or IN_PROGRESS after the agent
 *     started before the GPU is unhealthy
 * @param persistenceOffState state when persistence mode is off (DEGRADED; HEALTHY turns it off)
 * @param infiniband thresholds of the InfiniBand checks
 * @param kernelErrorHold how long an ERROR-class kernel log match holds its component DEGRADED
 */
public record CheckConfig(
    Set<String> disabled,
    OptionalInt expectedGpus,
    int xidEscalateAfterBoots,
    Duration xidFloodWindow,
    long retiredPagesLimit,
    long retiredPagesDbeLimit,
    Duration slowdownWindow,
    double slowdownFraction,
    double pcieReplaysPerMinute,
    double nvlinkReplayRecoveryPerMinute,
    double nvlinkCrcPerSecond,
    Duration fabricProbeGrace,
    HealthState persistenceOffState,
    InfinibandCheckConfig infiniband,
    Duration kernelErrorHold) {

  /** Validates and copies. */
  public CheckConfig {
    disabled = Set.copyOf(requireNonNull(disabled, "disabled"));
    requireNonNull(expectedGpus, "expectedGpus");
    requireNonNull(xidFloodWindow, "xidFloodWindow");
    requireNonNull(slowdownWindow, "slowdownWindow");
    requireNonNull(fabricProbeGrace, "fabricProbeGrace");
    requireNonNull(persistenceOffState, "persistenceOffState");
    requireNonNull(infiniband, "infiniband");
    requireNonNull(kernelErrorHold, "kernelErrorHold");
    if (kernelErrorHold.isNegative() || kernelErrorHold.isZero()) {
      throw new IllegalArgumentException("kernel-log error hold must be positive, got " + kernelErrorHold);
    }
    if (xidEscalateAfterBoots < 2) {
      throw new IllegalArgumentException("xid escalation needs at least 2 boots, got " + xidEscalateAfterBoots);
    }
    if (slowdownFraction <= 0 || slowdownFraction > 1) {
      throw new IllegalArgumentException("slowdown fraction must be in (0, 1], got " + slowdownFraction);
    }
    if (expectedGpus.isPresent() && expectedGpus.getAsInt() < 0) {
      throw new IllegalArgumentException("expected GPUs must be >= 0, got " + expectedGpus.getAsInt());
    }
  }

  /** Returns the documented defaults. */
  public static CheckConfig defaults() {
    return new CheckConfig(Set.of(), OptionalInt.empty(), 3, Duration.ofMinutes(1), 63, 15, Duration.ofMinutes(1), 0.5,
        8, 1, 100, Duration.ofMinutes(5), HealthState.HEALTH_STATE_DEGRADED,
        InfinibandCheckConfig.defaults(), KernelLogCheck.DEFAULT_ERROR_HOLD);
  }

  /** Returns a copy expecting {@code n} GPUs. */
  public CheckConfig withExpectedGpus(int n) {
    return new CheckConfig(disabled, OptionalInt.of(n), xidEscalateAfterBoots, xidFloodWindow, retiredPagesLimit,
        retiredPagesDbeLimit, slowdownWindow, slowdownFraction, pcieReplaysPerMinute, nvlinkReplayRecoveryPerMinute,
        nvlinkCrcPerSecond, fabricProbeGrace, persistenceOffState, infiniband, kernelErrorHold);
  }

  /** Returns a copy with these checks disabled. */
  public CheckConfig withDisabled(Set<String> names) {
    return new CheckConfig(names, expectedGpus, xidEscalateAfterBoots, xidFloodWindow, retiredPagesLimit,
        retiredPagesDbeLimit, slowdownWindow, slowdownFraction, pcieReplaysPerMinute, nvlinkReplayRecoveryPerMinute,
        nvlinkCrcPerSecond, fabricProbeGrace, persistenceOffState, infiniband, kernelErrorHold);
  }

  /** Returns a copy with these InfiniBand thresholds. */
  public CheckConfig withInfiniband(InfinibandCheckConfig ib) {
    return new CheckConfig(disabled, expectedGpus, xidEscalateAfterBoots, xidFloodWindow, retiredPagesLimit,
        retiredPagesDbeLimit, slowdownWindow, slowdownFraction, pcieReplaysPerMinute, nvlinkReplayRecoveryPerMinute,
        nvlinkCrcPerSecond, fabricProbeGrace, persistenceOffState, ib, kernelErrorHold);
  }
}
