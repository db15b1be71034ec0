package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlEventData_t}: 32 bytes. */
final class EventDataStruct extends Struct {
    /** {@code gpuInstanceId} / {@code computeInstanceId} of an event not tied to a MIG instance. */
    static final long NO_INSTANCE = 0xFFFFFFFFL;

    final Pointer device = new Pointer();
    final Unsigned64 eventType = new Unsigned64();
    final Unsigned64 eventData = new Unsigned64();
    final Unsigned32 gpuInstanceId = new Unsigned32();
    final Unsigned32 computeInstanceId = new Unsigned32();

    EventDataStruct(Runtime runtime) {
        super(runtime);
    }
}
