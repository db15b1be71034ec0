package io.gpuwarden.nvml;

/** {@code nvmlNvLinkErrorCounter_t}: the data-link-layer error counters of one NVLink. */
public enum NvlinkErrorCounter {
    /** Packets replayed after an error. */
    DL_REPLAY(0),
    /** Link recoveries. */
    DL_RECOVERY(1),
    /** Flits with a CRC error. */
    DL_CRC_FLIT(2),
    /** Data with a CRC error. */
    DL_CRC_DATA(3),
    /** Data with an ECC error. */
    DL_ECC_DATA(4);

    private final int code;

    NvlinkErrorCounter(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
