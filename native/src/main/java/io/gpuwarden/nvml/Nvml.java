package io.gpuwarden.nvml;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;

/**
 * An initialised NVML session: {@code nvmlInit_v2} on {@link #open}, {@code nvmlShutdown} on
 * {@link #close}.
 *
 * <pre>{@code
 * try (Nvml nvml = Nvml.open(null)) {
 *     for (int i = 0; i < nvml.deviceCount(); i++) {
 *         System.out.println(nvml.device(i).name().value());
 *     }
 * }
 * }</pre>
 *
 * <p>NVML's initialisation is process-wide and reference counted: each open instance holds one
 * count. A closed instance (and its devices) fails every call with {@link NvmlReturn#UNINITIALIZED}
 * even while another instance keeps NVML initialised. Thread-safe; every call uses its own buffers.
 * NVML calls can block indefinitely on a wedged GPU, so callers that must stay responsive should
 * make them on a bounded executor with a timeout.
 */
public final class Nvml implements AutoCloseable {
    private static final int VERSION_BUFFER_SIZE = 80;

    private final NvmlBinding binding;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Nvml(NvmlBinding binding) {
        this.binding = binding;
    }

    /**
     * Loads {@code libnvidia-ml.so.1} and calls {@code nvmlInit_v2}.
     *
     * @param libraryPath exactly the file to load, or {@code null} to let the system loader find
     *     {@code libnvidia-ml.so.1} ({@code LD_LIBRARY_PATH}, {@code ld.so.cache}, default directories)
     * @throws NvmlLibraryNotFoundException when the library cannot be loaded
     * @throws NvmlException when {@code nvmlInit_v2} fails, e.g. {@link NvmlReturn#DRIVER_NOT_LOADED}
     */
    public static Nvml open(Path libraryPath) throws NvmlException {
        NvmlBinding binding = libraryPath == null
                ? NvmlBinding.loadFromSystem(NvmlBinding.SONAME)
                : NvmlBinding.loadFile(libraryPath);
        binding.check("nvmlInit_v2", binding.library()::nvmlInit_v2);
        return new Nvml(binding);
    }

    /** The driver version, e.g. {@code 550.54.15}. */
    public String driverVersion() {
        return systemString("nvmlSystemGetDriverVersion", binding.library()::nvmlSystemGetDriverVersion);
    }

    /** The NVML library version, e.g. {@code 12.550.54.15}. */
    public String nvmlVersion() {
        return systemString("nvmlSystemGetNVMLVersion", binding.library()::nvmlSystemGetNVMLVersion);
    }

    private String systemString(String function, NvmlBinding.StringCall call) {
        byte[] buffer = new byte[VERSION_BUFFER_SIZE];
        binding.check(function, () -> call.fill(buffer, buffer.length));
        return NvmlBinding.decode(buffer);
    }

    /** The newest CUDA version the driver supports, e.g. 12.4. */
    public CudaVersion cudaDriverVersion() {
        IntByReference version = new IntByReference();
        binding.check("nvmlSystemGetCudaDriverVersion_v2",
                () -> binding.library().nvmlSystemGetCudaDriverVersion_v2(version));
        return CudaVersion.fromEncoded(version.intValue());
    }

    /** How many GPUs NVML sees, including ones it may not be allowed to open. */
    public int deviceCount() {
        IntByReference count = new IntByReference();
        binding.check("nvmlDeviceGetCount_v2", () -> binding.library().nvmlDeviceGetCount_v2(count));
        return count.intValue();
    }

    /**
     * The GPU at NVML index {@code index}. Index order can change across reboots: key GPUs by
     * UUID or PCI bus id.
     *
     * @throws NvmlException {@link NvmlReturn#INVALID_ARGUMENT} for an index out of range
     */
    public NvmlDevice device(int index) {
        PointerByReference handle = new PointerByReference();
        binding.check("nvmlDeviceGetHandleByIndex_v2",
                () -> binding.library().nvmlDeviceGetHandleByIndex_v2(index, handle));
        return new NvmlDevice(binding, handle.getValue(), index);
    }

    /**
     * The GPU with this UUID, e.g. {@code GPU-3b1c...}.
     *
     * @throws NvmlException {@link NvmlReturn#NOT_FOUND} when no GPU has it
     */
    public NvmlDevice deviceByUuid(String uuid) {
        byte[] key = NvmlBinding.encode(Objects.requireNonNull(uuid, "uuid"));
        PointerByReference handle = new PointerByReference();
        binding.check("nvmlDeviceGetHandleByUUID", () -> binding.library().nvmlDeviceGetHandleByUUID(key, handle));
        return NvmlDevice.resolve(binding, handle.getValue());
    }

    /**
     * The GPU at this PCI address, e.g. {@code 00000000:18:00.0}.
     *
     * @throws NvmlException {@link NvmlReturn#NOT_FOUND} when no GPU is there,
     *     {@link NvmlReturn#INVALID_ARGUMENT} when {@code busId} is not a bus id
     */
    public NvmlDevice deviceByPciBusId(String busId) {
        byte[] key = NvmlBinding.encode(Objects.requireNonNull(busId, "busId"));
        PointerByReference handle = new PointerByReference();
        binding.check("nvmlDeviceGetHandleByPciBusId_v2",
                () -> binding.library().nvmlDeviceGetHandleByPciBusId_v2(key, handle));
        return NvmlDevice.resolve(binding, handle.getValue());
    }

    /**
     * A new, empty event set ({@code nvmlEventSetCreate}); close it when done.
     *
     * @throws NvmlException when NVML cannot create one
     */
    public NvmlEventSet createEventSet() {
        PointerByReference set = new PointerByReference();
        binding.check("nvmlEventSetCreate", () -> binding.library().nvmlEventSetCreate(set));
        return new NvmlEventSet(binding, set.getValue());
    }

    /** The library file that was loaded, or the soname the system loader was asked for. */
    public Path libraryPath() {
        return binding.libraryPath();
    }

    /**
     * Calls {@code nvmlShutdown} the first time; later calls do nothing.
     *
     * @throws NvmlException when {@code nvmlShutdown} fails (this instance is closed regardless)
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                binding.check("nvmlShutdown", binding.library()::nvmlShutdown);
            } finally {
                binding.markClosed();
            }
        }
    }

    @Override
    public String toString() {
        return "Nvml[" + binding.libraryPath() + (closed.get() ? ", closed]" : "]");
    }
}
