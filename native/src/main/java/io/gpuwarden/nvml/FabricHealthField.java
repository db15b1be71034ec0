package io.gpuwarden.nvml;

import java.util.Optional;

/**
 * The fields packed into {@link GpuFabricInfo#healthMask()} ({@code NVML_GPU_FABRIC_HEALTH_MASK_*}).
 * Every field but {@link #INCORRECT_CONFIGURATION} is a flag: 0 not supported, 1 true, 2 false.
 *
 * <pre>{@code
 * boolean degraded = FabricHealthField.DEGRADED_BANDWIDTH.flag(info.healthMask()).orElse(false);
 * }</pre>
 */
public enum FabricHealthField {
    /** The GPU's NVLink bandwidth is degraded. */
    DEGRADED_BANDWIDTH(0, 2),
    /** A route is recovering. */
    ROUTE_RECOVERY(2, 2),
    /** A route is unhealthy. */
    ROUTE_UNHEALTHY(4, 2),
    /** Recovering from an access timeout. */
    ACCESS_TIMEOUT_RECOVERY(6, 2),
    /**
     * Not a flag but a code: 0 not supported, 1 none, 2 incorrect system GUID, 3 incorrect chassis
     * serial, 4 no partition, 5 insufficient NVLinks; newer drivers add higher codes.
     */
    INCORRECT_CONFIGURATION(8, 4),
    /** The GPU is assigned to a fabric partition. */
    PARTITION_ASSIGNED(12, 2);

    /** {@link #INCORRECT_CONFIGURATION}'s value when the configuration is correct. */
    public static final int CONFIGURATION_NONE = 1;

    private final int shift;
    private final int width;

    FabricHealthField(int shift, int width) {
        this.shift = shift;
        this.width = width;
    }

    /** The field's raw value in {@code healthMask}. */
    public int valueIn(int healthMask) {
        return (healthMask >>> shift) & ((1 << width) - 1);
    }

    /**
     * A flag field read as a boolean: empty when the driver does not report it (0) or reports a
     * value this library does not know.
     *
     * @throws IllegalStateException for {@link #INCORRECT_CONFIGURATION}, which is not a flag
     */
    public Optional<Boolean> flag(int healthMask) {
        if (this == INCORRECT_CONFIGURATION) {
            throw new IllegalStateException("INCORRECT_CONFIGURATION is a code, not a flag; use valueIn");
        }
        return switch (valueIn(healthMask)) {
            case 1 -> Optional.of(Boolean.TRUE);
            case 2 -> Optional.of(Boolean.FALSE);
            default -> Optional.empty();
        };
    }

    /** {@code healthMask} with this field set to {@code value} (for building test data). */
    public int with(int healthMask, int value) {
        int mask = ((1 << width) - 1) << shift;
        return (healthMask & ~mask) | ((value << shift) & mask);
    }
}
