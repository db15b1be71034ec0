package io.gpuwarden.nvml;

import java.util.Objects;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;

/**
 * One GPU, by its NVML handle. Every query answers a value or, where NVML says
 * {@code NOT_SUPPORTED}, a not-supported {@link NvmlReading}; any other failure (e.g.
 * {@link NvmlReturn#GPU_IS_LOST}) throws {@link NvmlException}. Thread-safe.
 */
public final class NvmlDevice {
    private static final int NAME_BUFFER_SIZE = 96;
    private static final int UUID_BUFFER_SIZE = 96;
    private static final int SERIAL_BUFFER_SIZE = 30;

    private final NvmlBinding binding;
    private final Pointer handle;
    private final int index;

    NvmlDevice(NvmlBinding binding, Pointer handle, int index) {
        this.binding = binding;
        this.handle = Objects.requireNonNull(handle, "handle");
        this.index = index;
    }

    /** A device found by UUID or bus id: asks NVML for its index. */
    static NvmlDevice resolve(NvmlBinding binding, Pointer handle) {
        IntByReference index = new IntByReference();
        binding.check("nvmlDeviceGetIndex", () -> binding.library().nvmlDeviceGetIndex(handle, index));
        return new NvmlDevice(binding, handle, index.intValue());
    }

    private NvmlNative.Library library() {
        return binding.library();
    }

    /** NVML's index for this GPU (not stable across reboots). */
    public int index() {
        return index;
    }

    /** The product name, e.g. {@code NVIDIA H100 80GB HBM3}. */
    public NvmlReading<String> name() {
        return binding.readString("nvmlDeviceGetName", NAME_BUFFER_SIZE,
                (buffer, length) -> library().nvmlDeviceGetName(handle, buffer, length));
    }

    /** The globally unique id, {@code GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}. */
    public NvmlReading<String> uuid() {
        return binding.readString("nvmlDeviceGetUUID", UUID_BUFFER_SIZE,
                (buffer, length) -> library().nvmlDeviceGetUUID(handle, buffer, length));
    }

    /** The board serial number; not supported on most consumer boards. */
    public NvmlReading<String> serial() {
        return binding.readString("nvmlDeviceGetSerial", SERIAL_BUFFER_SIZE,
                (buffer, length) -> library().nvmlDeviceGetSerial(handle, buffer, length));
    }

    /** PCI location and ids. */
    public NvmlReading<PciInfo> pciInfo() {
        PciInfoStruct pci = new PciInfoStruct(binding.runtime());
        return binding.read("nvmlDeviceGetPciInfo_v3", () -> library().nvmlDeviceGetPciInfo_v3(handle, pci),
                pci::toPciInfo);
    }

    /**
     * The GPU die temperature in °C: {@code nvmlDeviceGetTemperatureV} first, falling back to the
     * deprecated {@code nvmlDeviceGetTemperature} on drivers that lack the former (missing symbol,
     * {@code FUNCTION_NOT_FOUND} or {@code ARGUMENT_VERSION_MISMATCH}).
     */
    public NvmlReading<Integer> temperatureCelsius() {
        TemperatureStruct temperature = new TemperatureStruct(binding.runtime());
        int code = binding.rawCall(() -> library().nvmlDeviceGetTemperatureV(handle, temperature));
        NvmlReturn result = NvmlReturn.fromCode(code);
        if (result != NvmlReturn.FUNCTION_NOT_FOUND && result != NvmlReturn.ARGUMENT_VERSION_MISMATCH) {
            return binding.read("nvmlDeviceGetTemperatureV", () -> code, temperature.temperature::intValue);
        }
        IntByReference celsius = new IntByReference();
        return binding.read("nvmlDeviceGetTemperature",
                () -> library().nvmlDeviceGetTemperature(handle, TemperatureStruct.SENSOR_GPU, celsius),
                celsius::intValue);
    }

    /** Board power draw in milliwatts (a 1 s average on Ampere and newer, except GA100). */
    public NvmlReading<Integer> powerUsageMilliwatts() {
        IntByReference milliwatts = new IntByReference();
        return binding.read("nvmlDeviceGetPowerUsage", () -> library().nvmlDeviceGetPowerUsage(handle, milliwatts),
                milliwatts::intValue);
    }

    /** The power limit the driver enforces, in milliwatts. */
    public NvmlReading<Integer> enforcedPowerLimitMilliwatts() {
        IntByReference milliwatts = new IntByReference();
        return binding.read("nvmlDeviceGetEnforcedPowerLimit",
                () -> library().nvmlDeviceGetEnforcedPowerLimit(handle, milliwatts), milliwatts::intValue);
    }

    /** GPU and memory utilisation; not supported on MIG-enabled GPUs. */
    public NvmlReading<Utilization> utilization() {
        UtilizationStruct utilization = new UtilizationStruct(binding.runtime());
        return binding.read("nvmlDeviceGetUtilizationRates",
                () -> library().nvmlDeviceGetUtilizationRates(handle, utilization), utilization::toUtilization);
    }

    /**
     * Device memory: {@code nvmlDeviceGetMemoryInfo_v2} first, falling back to v1 (reserved 0,
     * used including reserved) on drivers that lack it.
     */
    public NvmlReading<MemoryInfo> memoryInfo() {
        MemoryV2Struct memory = new MemoryV2Struct(binding.runtime());
        int code = binding.rawCall(() -> library().nvmlDeviceGetMemoryInfo_v2(handle, memory));
        NvmlReturn result = NvmlReturn.fromCode(code);
        if (result != NvmlReturn.FUNCTION_NOT_FOUND && result != NvmlReturn.ARGUMENT_VERSION_MISMATCH) {
            return binding.read("nvmlDeviceGetMemoryInfo_v2", () -> code, memory::toMemoryInfo);
        }
        MemoryStruct legacy = new MemoryStruct(binding.runtime());
        return binding.read("nvmlDeviceGetMemoryInfo", () -> library().nvmlDeviceGetMemoryInfo(handle, legacy),
                legacy::toMemoryInfo);
    }

    /** The current clock of one domain, in MHz. */
    public NvmlReading<Integer> clockMhz(ClockType type) {
        Objects.requireNonNull(type, "type");
        IntByReference mhz = new IntByReference();
        return binding.read("nvmlDeviceGetClockInfo",
                () -> library().nvmlDeviceGetClockInfo(handle, type.code(), mhz), mhz::intValue);
    }

    @Override
    public String toString() {
        return "NvmlDevice[" + index + "]";
    }
}
