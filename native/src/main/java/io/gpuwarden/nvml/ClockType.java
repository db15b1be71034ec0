package io.gpuwarden.nvml;

/** The clock domains of {@code nvmlClockType_t}, read in MHz with {@link NvmlDevice#clockMhz(ClockType)}. */
public enum ClockType {
    GRAPHICS(0),
    SM(1),
    MEMORY(2),
    VIDEO(3);

    private final int code;

    ClockType(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
