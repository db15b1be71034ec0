package io.gpuwarden.nvml;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Why the GPU's clocks are below their maximum: the bits of the mask that
 * {@link NvmlDevice#clockEventReasons()} returns ({@code nvmlClocksEventReason*}, formerly
 * {@code nvmlClocksThrottleReason*}).
 *
 * <pre>{@code
 * Set<ClockEventReason> reasons = ClockEventReason.decode(device.clockEventReasons().value());
 * boolean overheating = reasons.contains(ClockEventReason.HW_THERMAL_SLOWDOWN);
 * }</pre>
 */
public enum ClockEventReason {
    /** Nothing to do, so the clocks are low; the healthy idle state. */
    GPU_IDLE(0x1),
    /** Application clocks were set below the maximum. */
    APPLICATIONS_CLOCKS_SETTING(0x2),
    /** The software power cap is holding the clocks down. */
    SW_POWER_CAP(0x4),
    /** Hardware slowdown: too hot, power brake or an external power supply problem. */
    HW_SLOWDOWN(0x8),
    /** Clocks synchronised with other GPUs in a sync-boost group. */
    SYNC_BOOST(0x10),
    /** The driver lowers clocks to stay under a temperature limit. */
    SW_THERMAL_SLOWDOWN(0x20),
    /** Hardware thermal protection halves the clocks or more. */
    HW_THERMAL_SLOWDOWN(0x40),
    /** The power brake (an external signal) is slowing the GPU. */
    HW_POWER_BRAKE_SLOWDOWN(0x80),
    /** Clocks follow a display clock setting. */
    DISPLAY_CLOCK_SETTING(0x100);

    private final long bit;

    ClockEventReason(long bit) {
        this.bit = bit;
    }

    /** This reason's bit in the mask. */
    public long bit() {
        return bit;
    }

    /** The reasons whose bits are set in {@code mask}; bits this enum does not know are ignored. */
    public static Set<ClockEventReason> decode(long mask) {
        EnumSet<ClockEventReason> reasons = EnumSet.noneOf(ClockEventReason.class);
        for (ClockEventReason reason : values()) {
            if ((mask & reason.bit) != 0) {
                reasons.add(reason);
            }
        }
        return Collections.unmodifiableSet(reasons);
    }

    /** The mask with the bits of {@code reasons} set. */
    public static long encode(Set<ClockEventReason> reasons) {
        long mask = 0;
        for (ClockEventReason reason : reasons) {
            mask |= reason.bit;
        }
        return mask;
    }
}
