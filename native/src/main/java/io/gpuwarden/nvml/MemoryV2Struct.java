package io.gpuwarden.nvml;

import jnr.ffi.NativeType;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlMemory_v2_t}: 40 bytes, with 4 bytes of padding after {@code version}. */
final class MemoryV2Struct extends Struct {
    /** {@code NVML_STRUCT_VERSION(Memory, 2)}: {@code sizeof | 2 << 24}. */
    static final int VERSION = 0x02000028;

    final Unsigned32 version = new Unsigned32();
    final Padding alignment = new Padding(NativeType.UINT, 1);
    final Unsigned64 total = new Unsigned64();
    final Unsigned64 reserved = new Unsigned64();
    final Unsigned64 free = new Unsigned64();
    final Unsigned64 used = new Unsigned64();

    MemoryV2Struct(Runtime runtime) {
        super(runtime);
        version.set(VERSION);
    }

    MemoryInfo toMemoryInfo() {
        return new MemoryInfo(total.longValue(), reserved.longValue(), free.longValue(), used.longValue());
    }
}
