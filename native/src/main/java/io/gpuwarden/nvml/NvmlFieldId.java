package io.gpuwarden.nvml;

/**
 * {@code NVML_FI_*} ids for {@link NvmlDevice#fieldValues(java.util.List)}: the ones gpuwarden
 * reads. Any other id may be passed as a number.
 */
public final class NvmlFieldId {
    public static final int ECC_SBE_VOLATILE_TOTAL = 3;
    public static final int ECC_DBE_VOLATILE_TOTAL = 4;
    public static final int ECC_SBE_AGGREGATE_TOTAL = 5;
    public static final int ECC_DBE_AGGREGATE_TOTAL = 6;
    public static final int RETIRED_SBE = 29;
    public static final int RETIRED_DBE = 30;
    public static final int RETIRED_PENDING = 31;
    public static final int NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL = 38;
    public static final int NVLINK_CRC_DATA_ERROR_COUNT_TOTAL = 45;
    public static final int NVLINK_REPLAY_ERROR_COUNT_TOTAL = 52;
    public static final int NVLINK_RECOVERY_ERROR_COUNT_TOTAL = 59;
    /** How many NVLinks the GPU has; NOT_SUPPORTED without NVLink. */
    public static final int NVLINK_LINK_COUNT = 91;
    public static final int PCIE_REPLAY_COUNTER = 94;
    public static final int REMAPPED_CORRECTED = 142;
    public static final int REMAPPED_UNCORRECTED = 143;
    public static final int REMAPPED_PENDING = 144;
    public static final int REMAPPED_FAILURE = 145;
    public static final int NVLINK_ECC_DATA_ERROR_COUNT_TOTAL = 160;
    /** One link's state; the link goes in the scope id. */
    public static final int NVLINK_GET_STATE = 165;
    /** {@link GpuRecoveryAction}'s code. */
    public static final int GPU_RECOVERY_ACTION = 230;

    private NvmlFieldId() {
    }
}
