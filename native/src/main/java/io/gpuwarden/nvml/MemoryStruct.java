package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlMemory_t} (v1): 24 bytes. Its {@code used} includes the driver's reserved memory. */
final class MemoryStruct extends Struct {
    final Unsigned64 total = new Unsigned64();
    final Unsigned64 free = new Unsigned64();
    final Unsigned64 used = new Unsigned64();

    MemoryStruct(Runtime runtime) {
        super(runtime);
    }

    MemoryInfo toMemoryInfo() {
        return new MemoryInfo(total.longValue(), 0, free.longValue(), used.longValue());
    }
}
