package io.gpuwarden.nvml;

/**
 * What the driver says it takes to bring the GPU back ({@code nvmlDeviceGpuRecoveryAction_t}),
 * read from field {@link NvmlFieldId#GPU_RECOVERY_ACTION} with {@link NvmlDevice#gpuRecoveryAction()}.
 * Xid 154 is logged whenever it changes.
 */
public enum GpuRecoveryAction {
    NONE(0),
    GPU_RESET(1),
    NODE_REBOOT(2),
    /** Stop peer-to-peer traffic (drain) before the GPU can be used again. */
    DRAIN_P2P(3),
    DRAIN_AND_RESET(4),
    RECOVER_IMEX_DOMAIN(5),
    /** A value newer than this library; the number itself is not kept. */
    UNKNOWN(-1);

    private final int code;

    GpuRecoveryAction(int code) {
        this.code = code;
    }

    /** The C enum value; -1 for {@link #UNKNOWN}. */
    public int code() {
        return code;
    }

    /** The constant for NVML's value, {@link #UNKNOWN} for values this library does not know. */
    public static GpuRecoveryAction fromCode(long code) {
        for (GpuRecoveryAction action : values()) {
            if (action != UNKNOWN && action.code == code) {
                return action;
            }
        }
        return UNKNOWN;
    }
}
