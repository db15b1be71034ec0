package io.gpuwarden.nvml;

/** {@code nvmlPageRetirementCause_t}: why a memory page was retired. */
public enum PageRetirementCause {
    /** Repeated corrected errors on the page. */
    MULTIPLE_SINGLE_BIT_ECC_ERRORS(0),
    /** An uncorrected error on the page. */
    DOUBLE_BIT_ECC_ERROR(1);

    private final int code;

    PageRetirementCause(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
