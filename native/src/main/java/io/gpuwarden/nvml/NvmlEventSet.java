package io.gpuwarden.nvml;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;

/**
 * An NVML event set ({@code nvmlEventSet_t}): register GPUs and event types, then wait for events
 * such as Xids. Created by {@link Nvml#createEventSet()}.
 *
 * <pre>{@code
 * try (NvmlEventSet events = nvml.createEventSet()) {
 *     events.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR);
 *     events.await(Duration.ofSeconds(5)).filter(NvmlEvent::isXid)
 *             .ifPresent(event -> System.out.println("Xid " + event.eventData()));
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #await} blocks in native code without holding any lock that other NVML
 * calls (or {@link #register}) need. {@link #close()} during an {@code await} returns at once; the
 * set is then freed when the wait returns, which is at the latest its timeout.
 */
public final class NvmlEventSet implements AutoCloseable {
    private static final int UUID_BUFFER_SIZE = 96;

    private final NvmlBinding binding;
    private final Pointer handle;
    /** What registration learned about each GPU, by handle address, for events NVML can no longer describe. */
    private final Map<Long, RegisteredGpu> registered = new ConcurrentHashMap<>();
    private final Object lifecycle = new Object();
    private int users;
    private boolean closed;

    NvmlEventSet(NvmlBinding binding, Pointer handle) {
        this.binding = binding;
        this.handle = Objects.requireNonNull(handle, "handle");
    }

    /**
     * Asks for {@code eventTypes} ({@link NvmlEventType} bits) from {@code device}.
     *
     * @return false when NVML does not support one of the types on this GPU
     *     ({@code NOT_SUPPORTED}); nothing is registered then, and the set stays usable
     * @throws NvmlException for any other failure, e.g. {@link NvmlReturn#GPU_IS_LOST}
     * @throws IllegalStateException when the set is closed
     */
    public boolean register(NvmlDevice device, long eventTypes) {
        Objects.requireNonNull(device, "device");
        if (device.binding() != binding) {
            throw new IllegalArgumentException(device + " belongs to another Nvml session");
        }
        acquire();
        try {
            boolean supported = binding.read("nvmlDeviceRegisterEvents",
                    () -> binding.library().nvmlDeviceRegisterEvents(device.handle(), eventTypes, handle),
                    () -> Boolean.TRUE).isSupported();
            if (supported) {
                registered.computeIfAbsent(device.handle().address(),
                        address -> new RegisteredGpu(device.index(), uuidOrEmpty(device)));
            }
            return supported;
        } finally {
            release();
        }
    }

    private static String uuidOrEmpty(NvmlDevice device) {
        try {
            return device.uuid().orElse("");
        } catch (NvmlException e) {
            return "";
        }
    }

    /**
     * Waits up to {@code timeout} for the next event ({@code nvmlEventSetWait_v2}, millisecond
     * resolution, at most {@link Integer#MAX_VALUE} ms).
     *
     * @return the event, or empty when none came in time ({@code TIMEOUT})
     * @throws NvmlException when the wait fails otherwise
     * @throws IllegalStateException when the set is closed
     */
    public Optional<NvmlEvent> await(Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        int millis = (int) Math.min(timeout.toMillis(), Integer.MAX_VALUE);
        acquire();
        try {
            EventDataStruct data = binding.direct(new EventDataStruct(binding.runtime()));
            int code = binding.invoke("nvmlEventSetWait_v2",
                    () -> binding.library().nvmlEventSetWait_v2(handle, Struct.getMemory(data), millis));
            if (code == NvmlReturn.TIMEOUT.code()) {
                return Optional.empty();
            }
            if (code != NvmlReturn.SUCCESS.code()) {
                throw binding.failure("nvmlEventSetWait_v2", code, null);
            }
            return Optional.of(toEvent(data));
        } finally {
            release();
        }
    }

    private NvmlEvent toEvent(EventDataStruct data) {
        Pointer device = data.device.get();
        RegisteredGpu known = device == null ? null : registered.get(device.address());
        int index = known != null ? known.index() : -1;
        String uuid = known != null ? known.uuid() : "";
        if (device != null) {
            IntByReference nvmlIndex = new IntByReference();
            if (binding.rawCall(() -> binding.library().nvmlDeviceGetIndex(device, nvmlIndex)) == 0) {
                index = nvmlIndex.intValue();
            }
            byte[] buffer = new byte[UUID_BUFFER_SIZE];
            if (binding.rawCall(() -> binding.library().nvmlDeviceGetUUID(device, buffer, buffer.length)) == 0) {
                uuid = NvmlBinding.decode(buffer);
            }
        }
        return new NvmlEvent(index, uuid, data.eventType.longValue(), data.eventData.longValue(),
                instance(data.gpuInstanceId.longValue()), instance(data.computeInstanceId.longValue()));
    }

    private static OptionalInt instance(long id) {
        return id == EventDataStruct.NO_INSTANCE ? OptionalInt.empty() : OptionalInt.of((int) id);
    }

    /**
     * Frees the set ({@code nvmlEventSetFree}) the first time; later calls do nothing. With an
     * {@link #await} in progress the set is freed when that returns.
     *
     * @throws NvmlException when {@code nvmlEventSetFree} fails (other than because NVML was shut down)
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            if (users > 0) {
                return;
            }
        }
        free(true);
    }

    private void acquire() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("the NVML event set is closed");
            }
            users++;
        }
    }

    private void release() {
        boolean last;
        synchronized (lifecycle) {
            users--;
            last = closed && users == 0;
        }
        if (last) {
            free(false);
        }
    }

    /** Runs once: the caller saw closed with no users under the lock, and nobody can become a user again. */
    private void free(boolean report) {
        int code = binding.rawCall(() -> binding.library().nvmlEventSetFree(handle));
        if (report && code != NvmlReturn.SUCCESS.code() && code != NvmlReturn.UNINITIALIZED.code()) {
            throw binding.failure("nvmlEventSetFree", code, null);
        }
    }

    @Override
    public String toString() {
        synchronized (lifecycle) {
            return "NvmlEventSet[" + registered.size() + " GPUs" + (closed ? ", closed]" : "]");
        }
    }

    private record RegisteredGpu(int index, String uuid) {
    }
}
