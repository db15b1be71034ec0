package io.gpuwarden.nvml;

/** The driver's verdict on the GPU's fabric health ({@code NVML_GPU_FABRIC_HEALTH_SUMMARY_*}, fabric info v3). */
public enum FabricHealthSummary {
    /** Older drivers (fabric info v1/v2) and GPUs without a fabric. */
    NOT_SUPPORTED(0),
    HEALTHY(1),
    UNHEALTHY(2),
    /** Usable with reduced bandwidth or reach. */
    LIMITED_CAPACITY(3),
    /** A value newer than this library. */
    UNKNOWN(-1);

    private final int code;

    FabricHealthSummary(int code) {
        this.code = code;
    }

    /** The C value; -1 for {@link #UNKNOWN}. */
    public int code() {
        return code;
    }

    /** The constant for NVML's value, {@link #UNKNOWN} for values this library does not know. */
    public static FabricHealthSummary fromCode(int code) {
        for (FabricHealthSummary summary : values()) {
            if (summary != UNKNOWN && summary.code == code) {
                return summary;
            }
        }
        return UNKNOWN;
    }
}
