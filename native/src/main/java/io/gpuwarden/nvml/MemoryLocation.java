package io.gpuwarden.nvml;

/** {@code nvmlMemoryLocation_t}: where on the GPU an ECC error happened. */
public enum MemoryLocation {
    L1_CACHE(0),
    L2_CACHE(1),
    /** Device memory ({@code NVML_MEMORY_LOCATION_DEVICE_MEMORY} is the same value). */
    DRAM(2),
    REGISTER_FILE(3),
    TEXTURE_MEMORY(4),
    TEXTURE_SHM(5),
    CBU(6),
    SRAM(7);

    private final int code;

    MemoryLocation(int code) {
        this.code = code;
    }

    /** The C enum value. */
    public int code() {
        return code;
    }
}
