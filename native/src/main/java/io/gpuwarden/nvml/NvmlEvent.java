package io.gpuwarden.nvml;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * One event from {@link NvmlEventSet#await(java.time.Duration)} ({@code nvmlEventData_t}).
 *
 * @param deviceIndex the GPU's NVML index ({@code nvmlDeviceGetIndex} on the event's handle; the
 *     index it was registered with if NVML cannot answer, e.g. for a GPU that is lost)
 * @param uuid the GPU's UUID, likewise; empty when neither NVML nor the registration knows it
 * @param eventType one {@link NvmlEventType} bit, e.g. {@link NvmlEventType#XID_CRITICAL_ERROR}
 * @param eventData the Xid for Xid events (999 for an Xid the driver has no number for), otherwise 0
 * @param gpuInstanceId the MIG GPU instance the event belongs to, if any
 * @param computeInstanceId the MIG compute instance the event belongs to, if any
 */
public record NvmlEvent(int deviceIndex, String uuid, long eventType, long eventData, OptionalInt gpuInstanceId,
        OptionalInt computeInstanceId) {

    public NvmlEvent {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(gpuInstanceId, "gpuInstanceId");
        Objects.requireNonNull(computeInstanceId, "computeInstanceId");
    }

    /** An Xid critical error; {@link #eventData()} is the Xid. */
    public boolean isXid() {
        return (eventType & NvmlEventType.XID_CRITICAL_ERROR) != 0;
    }
}
