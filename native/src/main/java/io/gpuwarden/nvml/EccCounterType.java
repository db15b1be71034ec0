package io.gpuwarden.nvml;

/** {@code nvmlEccCounterType_t}: how long an ECC counter has been counting. */
public enum EccCounterType {
    /** Since the driver last loaded; a reset or reboot clears it. */
    VOLATILE(0),
    /** Over the board's lifetime, kept in the infoROM. */
    AGGREGATE(1);

    private final int code;

    EccCounterType(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
