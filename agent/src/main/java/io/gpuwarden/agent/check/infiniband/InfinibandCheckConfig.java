package io.gpuwarden.agent.check.infiniband;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * Thresholds of the InfiniBand checks, an immutable value. Start from {@link #defaults()}:
 *
 * <pre>{@code
 * InfinibandCheckConfig c = InfinibandCheckConfig.defaults().withExpectedPorts(8).withExpectedRateGbps(400);
 * }</pre>
 *
 * <p>Defaults and why:
 * <ul>
 *   <li>{@code expectedPorts}, {@code expectedRateGbps}: empty. Hosts differ (8x NDR compute
 *       rails, 2x storage ports, none at all), so without them the port check infers what it can:
 *       the ports seen on this boot must stay, and ports of one HCA model and link layer must run
 *       at the same rate. That cannot tell a host that booted with an HCA already missing, or with
 *       every port at a lower rate; stating the values can.
 *   <li>{@code flapWindow} 10 min, {@code flapsForDegraded} 1, {@code flapsForUnhealthy} 3: one
 *       {@code link_downed} increment already broke every connection over the port (NCCL/MPI jobs
 *       abort), so it is worth a DEGRADED; three in ten minutes is a link that will keep dropping,
 *       so the node should not take new work (UNHEALTHY).
 *   <li>{@code flapStickyPeriod} 30 min: a flapping link often looks fine between flaps; the state
 *       (the worst one reached in the episode) holds until 30 minutes pass with no new flap, so a
 *       scheduler does not hand the node back between two drops. Must be at least the window.
 *   <li>{@code errorWindow} 1 h and {@code errorLimits} (increments within the window at which the
 *       port is DEGRADED): {@code symbol_error} 10 and {@code port_rcv_errors} 10 (on FEC links a
 *       healthy port shows ~0; a handful per hour is a marginal cable or transceiver, 10 leaves room
 *       for a one-off burst during link training); {@code link_error_recovery} 3 (each is a link
 *       retrain that stalls traffic for milliseconds; a few per hour is a degrading link);
 *       {@code local_link_integrity_errors} 3 and {@code excessive_buffer_overrun_errors} 3 (4-bit
 *       counters that saturate at 15, rare on healthy links, so a low limit both means something
 *       and fires before saturation hides further growth). Counting increments in a window, not
 *       the absolute value, keeps errors from months ago from failing the node forever.
 * </ul>
 *
 * @param expectedPorts ports the host must have; empty: the ports seen on this boot
 * @param expectedRateGbps link rate each ACTIVE port must reach, in Gb/s; empty: that of its fastest sibling
 * @param flapWindow window over which {@code link_downed} increments are counted
 * @param flapsForDegraded flaps within the window that make the port DEGRADED (at least 1)
 * @param flapsForUnhealthy flaps within the window that make the port UNHEALTHY (at least flapsForDegraded)
 * @param flapStickyPeriod how long after the last flap the episode's worst state holds
 * @param errorWindow window over which error counter increments are counted
 * @param errorLimits counter name to the increments within the window that make the port DEGRADED
 */
public record InfinibandCheckConfig(
    OptionalInt expectedPorts,
    OptionalDouble expectedRateGbps,
    Duration flapWindow,
    int flapsForDegraded,
    int flapsForUnhealthy,
    Duration flapStickyPeriod,
    Duration errorWindow,
    Map<String, Long> errorLimits) {

  /** Default flap window. */
  public static final Duration DEFAULT_FLAP_WINDOW = Duration.ofMinutes(10);
  /** Default flaps within the window for DEGRADED. */
  public static final int DEFAULT_FLAPS_FOR_DEGRADED = 1;
  /** Default flaps within the window for UNHEALTHY. */
  public static final int DEFAULT_FLAPS_FOR_UNHEALTHY = 3;
  /** Default time without a flap before a flapping port is healthy again. */
  public static final Duration DEFAULT_FLAP_STICKY_PERIOD = Duration.ofMinutes(30);
  /** Default error counting window. */
  public static final Duration DEFAULT_ERROR_WINDOW = Duration.ofHours(1);
  /** Default error limits per window (see the type's Javadoc for the reasoning). */
  public static final Map<String, Long> DEFAULT_ERROR_LIMITS = Map.of(
      "symbol_error", 10L,
      "link_error_recovery", 3L,
      "port_rcv_errors", 10L,
      "local_link_integrity_errors", 3L,
      "excessive_buffer_overrun_errors", 3L);

  /** Validates and copies. */
  public InfinibandCheckConfig {
    requireNonNull(expectedPorts, "expectedPorts");
    requireNonNull(expectedRateGbps, "expectedRateGbps");
    requireNonNull(flapWindow, "flapWindow");
    requireNonNull(flapStickyPeriod, "flapStickyPeriod");
    requireNonNull(errorWindow, "errorWindow");
    errorLimits = Map.copyOf(requireNonNull(errorLimits, "errorLimits"));
    if (expectedPorts.isPresent() && expectedPorts.getAsInt() < 0) {
      throw new IllegalArgumentException("expected ports must be >= 0, got " + expectedPorts.getAsInt());
    }
    if (expectedRateGbps.isPresent() && !(expectedRateGbps.getAsDouble() > 0)) {
      throw new IllegalArgumentException("expected rate must be > 0 Gb/s, got " + expectedRateGbps.getAsDouble());
    }
    if (flapsForDegraded < 1 || flapsForUnhealthy < flapsForDegraded) {
      throw new IllegalArgumentException("need 1 <= flapsForDegraded <= flapsForUnhealthy, got "
          + flapsForDegraded + " and " + flapsForUnhealthy);
    }
    if (flapWindow.isNegative() || flapWindow.isZero() || flapStickyPeriod.compareTo(flapWindow) < 0) {
      throw new IllegalArgumentException("need 0 < flapWindow <= flapStickyPeriod, got " + flapWindow + " and "
          + flapStickyPeriod);
    }
    if (errorWindow.isNegative() || errorWindow.isZero()) {
      throw new IllegalArgumentException("error window must be positive, got " + errorWindow);
    }
    errorLimits.forEach((name, limit) -> {
      if (limit < 1) {
        throw new IllegalArgumentException("error limit of " + name + " must be >= 1, got " + limit);
      }
    });
  }

  /** Returns the documented defaults. */
  public static InfinibandCheckConfig defaults() {
    return new InfinibandCheckConfig(OptionalInt.empty(), OptionalDouble.empty(), DEFAULT_FLAP_WINDOW,
        DEFAULT_FLAPS_FOR_DEGRADED, DEFAULT_FLAPS_FOR_UNHEALTHY, DEFAULT_FLAP_STICKY_PERIOD, DEFAULT_ERROR_WINDOW,
        DEFAULT_ERROR_LIMITS);
  }

  /** Returns a copy expecting {@code n} ports. */
  public InfinibandCheckConfig withExpectedPorts(int n) {
    return new InfinibandCheckConfig(OptionalInt.of(n), expectedRateGbps, flapWindow, flapsForDegraded,
        flapsForUnhealthy, flapStickyPeriod, errorWindow, errorLimits);
  }

  /** Returns a copy expecting every ACTIVE port to run at {@code gbps} or faster. */
  public InfinibandCheckConfig withExpectedRateGbps(double gbps) {
    return new InfinibandCheckConfig(expectedPorts, OptionalDouble.of(gbps), flapWindow, flapsForDegraded,
        flapsForUnhealthy, flapStickyPeriod, errorWindow, errorLimits);
  }
}
