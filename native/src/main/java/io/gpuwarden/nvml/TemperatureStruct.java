package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlTemperature_v1_t}: 12 bytes, asking for the GPU die sensor. */
final class TemperatureStruct extends Struct {
    /** {@code NVML_STRUCT_VERSION(Temperature, 1)}: {@code sizeof | 1 << 24}. */
    static final int VERSION = 0x0100000C;
    static final int SENSOR_GPU = 0;

    final Unsigned32 version = new Unsigned32();
    final Signed32 sensorType = new Signed32();
    final Signed32 temperature = new Signed32();

    TemperatureStruct(Runtime runtime) {
        super(runtime);
        version.set(VERSION);
        sensorType.set(SENSOR_GPU);
    }
}
