package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlUtilization_t}: 8 bytes. */
final class UtilizationStruct extends Struct {
    final Unsigned32 gpu = new Unsigned32();
    final Unsigned32 memory = new Unsigned32();

    UtilizationStruct(Runtime runtime) {
        super(runtime);
    }

    Utilization toUtilization() {
        return new Utilization(gpu.intValue(), memory.intValue());
    }
}
