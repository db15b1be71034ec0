package io.gpuwarden.nvml;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.LongLongByReference;

/**
 * One GPU, by its NVML handle. Every query answers a value or, where NVML says
 * {@code NOT_SUPPORTED}, a not-supported {@link NvmlReading}; any other failure (e.g.
 * {@link NvmlReturn#GPU_IS_LOST}) throws {@link NvmlException}. Thread-safe.
 */
public final class NvmlDevice {
    private static final int NAME_BUFFER_SIZE = 96;
    private static final int UUID_BUFFER_SIZE = 96;
    private static final int SERIAL_BUFFER_SIZE = 30;
    private static final String FIELD_VALUES = "nvmlDeviceGetFieldValues";
    private static final String RETIRED_PAGES_V2 = "nvmlDeviceGetRetiredPages_v2";
    private static final String RETIRED_PAGES = "nvmlDeviceGetRetiredPages";
    /** Size queries to make before giving up on a retired-page list that keeps growing. */
    static final int RETIRED_PAGES_ATTEMPTS = 4;

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

    NvmlBinding binding() {
        return binding;
    }

    Pointer handle() {
        return handle;
    }

    /**
     * NVML's index for this GPU when the handle was obtained (not stable across reboots; the GPUs
     * after one that falls off the bus move down one index).
     */
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
        int code = binding.optionalCall("nvmlDeviceGetTemperatureV",
                () -> library().nvmlDeviceGetTemperatureV(handle, temperature));
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
        int code = binding.optionalCall("nvmlDeviceGetMemoryInfo_v2",
                () -> library().nvmlDeviceGetMemoryInfo_v2(handle, memory));
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

    /** Whether ECC is enabled now and after the next reset; not supported on boards without ECC. */
    public NvmlReading<EccMode> eccMode() {
        IntByReference current = new IntByReference();
        IntByReference pending = new IntByReference();
        return binding.read("nvmlDeviceGetEccMode", () -> library().nvmlDeviceGetEccMode(handle, current, pending),
                () -> new EccMode(current.intValue() != 0, pending.intValue() != 0));
    }

    /**
     * ECC errors over all memory locations. Not supported without ECC hardware or with ECC
     * disabled; the count is unsigned 64-bit, kept as the bits of a long.
     */
    public NvmlReading<Long> totalEccErrors(MemoryErrorType errorType, EccCounterType counterType) {
        Objects.requireNonNull(errorType, "errorType");
        Objects.requireNonNull(counterType, "counterType");
        LongLongByReference count = new LongLongByReference();
        return binding.read("nvmlDeviceGetTotalEccErrors",
                () -> library().nvmlDeviceGetTotalEccErrors(handle, errorType.code(), counterType.code(), count),
                count::longValue);
    }

    /** ECC errors in one memory location; not supported where the GPU lacks the location or ECC is off. */
    public NvmlReading<Long> memoryErrorCounter(MemoryErrorType errorType, EccCounterType counterType,
            MemoryLocation location) {
        Objects.requireNonNull(errorType, "errorType");
        Objects.requireNonNull(counterType, "counterType");
        Objects.requireNonNull(location, "location");
        LongLongByReference count = new LongLongByReference();
        return binding.read("nvmlDeviceGetMemoryErrorCounter",
                () -> library().nvmlDeviceGetMemoryErrorCounter(handle, errorType.code(), counterType.code(),
                        location.code(), count),
                count::longValue);
    }

    /**
     * The pages retired for {@code cause}, with the time of retirement where the driver has
     * {@code nvmlDeviceGetRetiredPages_v2}; older drivers answer through
     * {@code nvmlDeviceGetRetiredPages} with timestamps 0. Pre-Ampere GPUs retire pages; Ampere and
     * later remap rows instead ({@link #remappedRows()}).
     */
    public NvmlReading<List<RetiredPage>> retiredPages(PageRetirementCause cause) {
        int code = Objects.requireNonNull(cause, "cause").code();
        RetiredPagesCall v2 = (count, addresses, timestamps) -> {
            IntByReference pages = new IntByReference(count[0]);
            int result = library().nvmlDeviceGetRetiredPages_v2(handle, code, pages, addresses, timestamps);
            count[0] = pages.intValue();
            return result;
        };
        int[] needed = {0};
        int first = binding.optionalCall(RETIRED_PAGES_V2, () -> v2.call(needed, null, null));
        if (NvmlReturn.fromCode(first) != NvmlReturn.FUNCTION_NOT_FOUND) {
            return readRetiredPages(binding, RETIRED_PAGES_V2, true, v2, first, needed[0]);
        }
        RetiredPagesCall v1 = (count, addresses, timestamps) -> {
            IntByReference pages = new IntByReference(count[0]);
            int result = library().nvmlDeviceGetRetiredPages(handle, code, pages, addresses);
            count[0] = pages.intValue();
            return result;
        };
        int[] legacyNeeded = {0};
        int legacyFirst = binding.rawCall(() -> v1.call(legacyNeeded, null, null));
        return readRetiredPages(binding, RETIRED_PAGES, false, v1, legacyFirst, legacyNeeded[0]);
    }

    /**
     * Finishes NVML's size-query protocol, given the answer to the first call (made with a count
     * of 0 and no buffers): {@code INSUFFICIENT_SIZE} comes with the needed count, so buffers of
     * that size are passed next, and again if the list grew in between.
     */
    static NvmlReading<List<RetiredPage>> readRetiredPages(NvmlBinding binding, String function,
            boolean withTimestamps, RetiredPagesCall call, int firstCode, int firstCount) {
        int code = firstCode;
        int[] count = {firstCount};
        long[] addresses = new long[0];
        long[] timestamps = new long[0];
        for (int attempt = 1; code == NvmlReturn.INSUFFICIENT_SIZE.code() && attempt < RETIRED_PAGES_ATTEMPTS;
                attempt++) {
            long[] pages = new long[count[0]];
            long[] times = withTimestamps ? new long[count[0]] : null;
            code = binding.rawCall(() -> call.call(count, pages, times));
            addresses = pages;
            timestamps = times;
        }
        long[] foundAddresses = addresses;
        long[] foundTimestamps = timestamps;
        int found = Math.min(count[0], addresses.length);
        int result = code;
        return binding.read(function, () -> result, () -> {
            List<RetiredPage> pages = new ArrayList<>(found);
            for (int i = 0; i < found; i++) {
                pages.add(new RetiredPage(foundAddresses[i], foundTimestamps == null ? 0 : foundTimestamps[i]));
            }
            return List.copyOf(pages);
        });
    }

    /**
     * One call of a retired-pages function: room for {@code count[0]} pages goes in (the arrays
     * are null when it is 0), NVML's count comes back in {@code count[0]}. The v1 call ignores
     * {@code timestamps}.
     */
    @FunctionalInterface
    interface RetiredPagesCall {
        int call(int[] count, long[] addresses, long[] timestamps);
    }

    /** Pages waiting for a reset to be retired. */
    public NvmlReading<Boolean> retiredPagesPending() {
        IntByReference pending = new IntByReference();
        return binding.read("nvmlDeviceGetRetiredPagesPendingStatus",
                () -> library().nvmlDeviceGetRetiredPagesPendingStatus(handle, pending), () -> pending.intValue() != 0);
    }

    /** Row remapping (Ampere and later); not supported on older GPUs or with MIG instances active. */
    public NvmlReading<RemappedRows> remappedRows() {
        IntByReference corrected = new IntByReference();
        IntByReference uncorrected = new IntByReference();
        IntByReference pending = new IntByReference();
        IntByReference failure = new IntByReference();
        return binding.read("nvmlDeviceGetRemappedRows",
                () -> library().nvmlDeviceGetRemappedRows(handle, corrected, uncorrected, pending, failure),
                () -> new RemappedRows(corrected.intValue(), uncorrected.intValue(), pending.intValue() != 0,
                        failure.intValue() != 0));
    }

    /**
     * Why the clocks are held down, as a {@link ClockEventReason} mask (decode it with
     * {@link ClockEventReason#decode(long)}): {@code nvmlDeviceGetCurrentClocksEventReasons}, or the
     * older {@code nvmlDeviceGetCurrentClocksThrottleReasons} on drivers that lack it.
     */
    public NvmlReading<Long> clockEventReasons() {
        LongLongByReference mask = new LongLongByReference();
        int code = binding.optionalCall("nvmlDeviceGetCurrentClocksEventReasons",
                () -> library().nvmlDeviceGetCurrentClocksEventReasons(handle, mask));
        if (NvmlReturn.fromCode(code) != NvmlReturn.FUNCTION_NOT_FOUND) {
            return binding.read("nvmlDeviceGetCurrentClocksEventReasons", () -> code, mask::longValue);
        }
        LongLongByReference legacy = new LongLongByReference();
        return binding.read("nvmlDeviceGetCurrentClocksThrottleReasons",
                () -> library().nvmlDeviceGetCurrentClocksThrottleReasons(handle, legacy), legacy::longValue);
    }

    /** PCIe replays since the driver loaded: a rising count means a marginal link. */
    public NvmlReading<Integer> pcieReplayCounter() {
        IntByReference value = new IntByReference();
        return binding.read("nvmlDeviceGetPcieReplayCounter",
                () -> library().nvmlDeviceGetPcieReplayCounter(handle, value), value::intValue);
    }

    /** The PCIe generation the link runs at now (it may drop while idle to save power). */
    public NvmlReading<Integer> pcieLinkGeneration() {
        IntByReference value = new IntByReference();
        return binding.read("nvmlDeviceGetCurrPcieLinkGeneration",
                () -> library().nvmlDeviceGetCurrPcieLinkGeneration(handle, value), value::intValue);
    }

    /** The highest PCIe generation the GPU and the system support together. */
    public NvmlReading<Integer> pcieLinkGenerationMax() {
        IntByReference value = new IntByReference();
        return binding.read("nvmlDeviceGetMaxPcieLinkGeneration",
                () -> library().nvmlDeviceGetMaxPcieLinkGeneration(handle, value), value::intValue);
    }

    /** The PCIe lanes in use now, e.g. 16; fewer than {@link #pcieLinkWidthMax()} means a degraded link. */
    public NvmlReading<Integer> pcieLinkWidth() {
        IntByReference value = new IntByReference();
        return binding.read("nvmlDeviceGetCurrPcieLinkWidth",
                () -> library().nvmlDeviceGetCurrPcieLinkWidth(handle, value), value::intValue);
    }

    /** The most PCIe lanes the link supports. */
    public NvmlReading<Integer> pcieLinkWidthMax() {
        IntByReference value = new IntByReference();
        return binding.read("nvmlDeviceGetMaxPcieLinkWidth",
                () -> library().nvmlDeviceGetMaxPcieLinkWidth(handle, value), value::intValue);
    }

    /**
     * Whether NVLink {@code link} is up. Not supported for links the GPU does not have (see
     * {@link #nvlinkLinkCount()}).
     *
     * @throws NvmlException {@link NvmlReturn#INVALID_ARGUMENT} for a link number NVML rejects outright
     */
    public NvmlReading<Boolean> nvlinkState(int link) {
        IntByReference active = new IntByReference();
        return binding.read("nvmlDeviceGetNvLinkState", () -> library().nvmlDeviceGetNvLinkState(handle, link, active),
                () -> active.intValue() != 0);
    }

    /** One data-link error counter of NVLink {@code link} (unsigned 64-bit, as long bits). */
    public NvmlReading<Long> nvlinkErrorCounter(int link, NvlinkErrorCounter counter) {
        Objects.requireNonNull(counter, "counter");
        LongLongByReference value = new LongLongByReference();
        return binding.read("nvmlDeviceGetNvLinkErrorCounter",
                () -> library().nvmlDeviceGetNvLinkErrorCounter(handle, link, counter.code(), value), value::longValue);
    }

    /** How many NVLinks the GPU has (field {@link NvmlFieldId#NVLINK_LINK_COUNT}); not supported without NVLink. */
    public NvmlReading<Integer> nvlinkLinkCount() {
        return singleField(NvmlFieldId.NVLINK_LINK_COUNT).map(Number::intValue);
    }

    /**
     * Reads several fields in one call ({@code nvmlDeviceGetFieldValues}). Each entry carries its
     * own result, so one unsupported field does not fail the others; if NVML does not support the
     * call at all, every entry is {@link NvmlReturn#NOT_SUPPORTED}.
     *
     * <pre>{@code
     * List<FieldValue> values = device.fieldValues(List.of(FieldRequest.of(NvmlFieldId.ECC_DBE_VOLATILE_TOTAL),
     *         new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 3)));
     * }</pre>
     *
     * @return one entry per request, in request order
     * @throws NvmlException when the call as a whole fails, e.g. {@link NvmlReturn#GPU_IS_LOST}
     */
    public List<FieldValue> fieldValues(List<FieldRequest> requests) {
        List<FieldRequest> wanted = List.copyOf(requests);
        if (wanted.isEmpty()) {
            return List.of();
        }
        int count = wanted.size();
        Pointer block = binding.runtime().getMemoryManager().allocateDirect(count * FieldValueStruct.SIZE, true);
        List<FieldValueStruct> entries = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            FieldValueStruct entry = new FieldValueStruct(binding.runtime());
            entry.useMemory(block.slice((long) i * FieldValueStruct.SIZE, FieldValueStruct.SIZE));
            entry.fieldId.set(wanted.get(i).fieldId());
            entry.scopeId.set(wanted.get(i).scopeId());
            entries.add(entry);
        }
        NvmlReading<List<FieldValue>> read = binding.read(FIELD_VALUES,
                () -> library().nvmlDeviceGetFieldValues(handle, count, block),
                () -> entries.stream().map(FieldValueStruct::toFieldValue).toList());
        return read.orElse(wanted.stream()
                .map(request -> new FieldValue(request.fieldId(), request.scopeId(), 0, 0, NvmlReturn.NOT_SUPPORTED,
                        Optional.empty()))
                .toList());
    }

    /**
     * Returns the exception a failing {@link #fieldValues} entry stands for, worded like any other
     * failed call: {@code nvmlDeviceGetFieldValues(field 142) failed: NVML_ERROR_UNKNOWN (999): ...}.
     *
     * @throws IllegalArgumentException when the entry did not fail
     */
    public NvmlException fieldFailure(FieldValue entry) {
        if (entry.result() == NvmlReturn.SUCCESS) {
            throw new IllegalArgumentException("field " + entry.fieldId() + " did not fail");
        }
        return binding.failure(FIELD_VALUES + "(field " + entry.fieldId() + ")", entry.result().code(), null);
    }

    /**
     * One field as a reading: NOT_SUPPORTED, and INVALID_ARGUMENT for a field the driver does not
     * know ({@link FieldValue#isUnsupported()}), are answers; any other entry error throws.
     */
    private NvmlReading<Number> singleField(int fieldId) {
        FieldValue value = fieldValues(List.of(FieldRequest.of(fieldId))).get(0);
        if (value.isUnsupported()) {
            return NvmlReading.notSupported(FIELD_VALUES);
        }
        if (!value.isSuccess()) {
            throw binding.failure(FIELD_VALUES, value.result().code(), null);
        }
        return NvmlReading.of(FIELD_VALUES, value.value().orElseThrow());
    }

    /**
     * What it takes to recover the GPU (field {@link NvmlFieldId#GPU_RECOVERY_ACTION}); not
     * supported where the GPU does not report it or the driver predates the field (before R565,
     * which answers the entry INVALID_ARGUMENT).
     */
    public NvmlReading<GpuRecoveryAction> gpuRecoveryAction() {
        return singleField(NvmlFieldId.GPU_RECOVERY_ACTION).map(value -> GpuRecoveryAction.fromCode(value.longValue()));
    }

    /** Whether the driver keeps the GPU initialised with no client attached. */
    public NvmlReading<Boolean> persistenceMode() {
        IntByReference mode = new IntByReference();
        return binding.read("nvmlDeviceGetPersistenceMode", () -> library().nvmlDeviceGetPersistenceMode(handle, mode),
                () -> mode.intValue() != 0);
    }

    /** The performance state: 0 (P0, fastest) to 15, or 32 when unknown. */
    public NvmlReading<Integer> performanceState() {
        IntByReference pstate = new IntByReference();
        return binding.read("nvmlDeviceGetPerformanceState",
                () -> library().nvmlDeviceGetPerformanceState(handle, pstate), pstate::intValue);
    }

    /**
     * The GPU's NVLink fabric registration and health (NVSwitch systems; not supported elsewhere).
     * Asks {@code nvmlDeviceGetGpuFabricInfoV} for struct v3, then v2 on
     * {@code ARGUMENT_VERSION_MISMATCH} (no health summary); drivers without the V call answer
     * through {@code nvmlDeviceGetGpuFabricInfo} (no health at all).
     */
    public NvmlReading<GpuFabricInfo> fabricInfo() {
        FabricInfoV3Struct v3 = binding.direct(new FabricInfoV3Struct(binding.runtime()));
        v3.version.set(FabricInfoV3Struct.VERSION);
        int code = binding.optionalCall("nvmlDeviceGetGpuFabricInfoV",
                () -> library().nvmlDeviceGetGpuFabricInfoV(handle, Struct.getMemory(v3)));
        NvmlReturn result = NvmlReturn.fromCode(code);
        if (result == NvmlReturn.ARGUMENT_VERSION_MISMATCH) {
            FabricInfoV2Struct v2 = binding.direct(new FabricInfoV2Struct(binding.runtime()));
            v2.version.set(FabricInfoV2Struct.VERSION);
            return binding.read("nvmlDeviceGetGpuFabricInfoV",
                    () -> library().nvmlDeviceGetGpuFabricInfoV(handle, Struct.getMemory(v2)), v2::toGpuFabricInfo);
        }
        if (result == NvmlReturn.FUNCTION_NOT_FOUND) {
            FabricInfoStruct v1 = binding.direct(new FabricInfoStruct(binding.runtime()));
            return binding.read("nvmlDeviceGetGpuFabricInfo",
                    () -> library().nvmlDeviceGetGpuFabricInfo(handle, Struct.getMemory(v1)), v1::toGpuFabricInfo);
        }
        return binding.read("nvmlDeviceGetGpuFabricInfoV", () -> code, v3::toGpuFabricInfo);
    }

    /** The {@link NvmlEventType} bits this GPU can report to an {@link NvmlEventSet}. */
    public NvmlReading<Long> supportedEventTypes() {
        LongLongByReference types = new LongLongByReference();
        return binding.read("nvmlDeviceGetSupportedEventTypes",
                () -> library().nvmlDeviceGetSupportedEventTypes(handle, types), types::longValue);
    }

    @Override
    public String toString() {
        return "NvmlDevice[" + index + "]";
    }
}
