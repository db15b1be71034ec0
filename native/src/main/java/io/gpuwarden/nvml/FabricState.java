package io.gpuwarden.nvml;

/** How far the GPU got registering with the NVLink fabric (NVSwitch systems, {@code nvmlGpuFabricState_t}). */
public enum FabricState {
    /** Not an NVSwitch-attached GPU, or the driver does not probe. */
    NOT_SUPPORTED(0),
    NOT_STARTED(1),
    IN_PROGRESS(2),
    /** Registration finished; {@link GpuFabricInfo#status()} says whether it succeeded. */
    COMPLETED(3),
    /** A value newer than this library. */
    UNKNOWN(-1);

    private final int code;

    FabricState(int code) {
        this.code = code;
    }

    /** The C value; -1 for {@link #UNKNOWN}. */
    public int code() {
        return code;
    }

    /** The constant for NVML's value, {@link #UNKNOWN} for values this library does not know. */
    public static FabricState fromCode(int code) {
        for (FabricState state : values()) {
            if (state != UNKNOWN && state.code == code) {
                return state;
            }
        }
        return UNKNOWN;
    }
}
