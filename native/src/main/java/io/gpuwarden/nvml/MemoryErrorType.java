package io.gpuwarden.nvml;

/** {@code nvmlMemoryErrorType_t}: which ECC errors a counter counts. */
public enum MemoryErrorType {
    /** Single-bit errors ECC corrected ({@code NVML_SINGLE_BIT_ECC}). */
    CORRECTED(0),
    /** Double-bit errors ECC could only detect ({@code NVML_DOUBLE_BIT_ECC}). */
    UNCORRECTED(1);

    private final int code;

    MemoryErrorType(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
