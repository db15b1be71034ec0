package io.gpuwarden.nvml;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.LongLongByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.u_int32_t;
import jnr.ffi.types.u_int64_t;

/**
 * Holds the jnr-ffi binding. jnr-ffi implements {@link Library} with a class it generates in its
 * own class loader, which may only implement a public interface; nesting the interface in this
 * package-private class keeps it, and every jnr-ffi type, out of gpuwarden's public API.
 */
final class NvmlNative {

    private NvmlNative() {
    }

    /**
     * The NVML entry points gpuwarden calls, bound by their exported (versioned) symbol names. Every
     * function returns an {@code nvmlReturn_t}. A symbol the loaded library lacks fails only when
     * called, with {@link UnsatisfiedLinkError}; {@link NvmlBinding} turns that into
     * {@link NvmlReturn#FUNCTION_NOT_FOUND}.
     *
     * <p>Strings going in are NUL-terminated UTF-8 {@code byte[]}s so that no platform charset is involved.
     * Structs whose layout depends on a version word, and arrays of structs, go as a {@link Pointer}
     * to direct memory that a jnr-ffi {@code Struct} is laid over.
     */
    public interface Library {

        int nvmlInit_v2();

        int nvmlShutdown();

        String nvmlErrorString(int result);

        int nvmlSystemGetDriverVersion(@Out byte[] version, @u_int32_t int length);

        int nvmlSystemGetNVMLVersion(@Out byte[] version, @u_int32_t int length);

        int nvmlSystemGetCudaDriverVersion_v2(@Out IntByReference cudaDriverVersion);

        int nvmlDeviceGetCount_v2(@Out IntByReference deviceCount);

        int nvmlDeviceGetHandleByIndex_v2(@u_int32_t int index, @Out PointerByReference device);

        int nvmlDeviceGetHandleByUUID(@In byte[] uuid, @Out PointerByReference device);

        int nvmlDeviceGetHandleByPciBusId_v2(@In byte[] pciBusId, @Out PointerByReference device);

        int nvmlDeviceGetIndex(Pointer device, @Out IntByReference index);

        int nvmlDeviceGetName(Pointer device, @Out byte[] name, @u_int32_t int length);

        int nvmlDeviceGetUUID(Pointer device, @Out byte[] uuid, @u_int32_t int length);

        int nvmlDeviceGetSerial(Pointer device, @Out byte[] serial, @u_int32_t int length);

        int nvmlDeviceGetPciInfo_v3(Pointer device, @Out PciInfoStruct pci);

        int nvmlDeviceGetTemperature(Pointer device, int sensorType, @Out IntByReference temp);

        int nvmlDeviceGetTemperatureV(Pointer device, @In @Out TemperatureStruct temperature);

        int nvmlDeviceGetPowerUsage(Pointer device, @Out IntByReference milliwatts);

        int nvmlDeviceGetEnforcedPowerLimit(Pointer device, @Out IntByReference milliwatts);

        int nvmlDeviceGetUtilizationRates(Pointer device, @Out UtilizationStruct utilization);

        int nvmlDeviceGetMemoryInfo(Pointer device, @Out MemoryStruct memory);

        int nvmlDeviceGetMemoryInfo_v2(Pointer device, @In @Out MemoryV2Struct memory);

        int nvmlDeviceGetClockInfo(Pointer device, int type, @Out IntByReference mhz);

        int nvmlDeviceGetEccMode(Pointer device, @Out IntByReference current, @Out IntByReference pending);

        int nvmlDeviceGetTotalEccErrors(Pointer device, int errorType, int counterType,
                @Out LongLongByReference count);

        int nvmlDeviceGetMemoryErrorCounter(Pointer device, int errorType, int counterType, int location,
                @Out LongLongByReference count);

        /** {@code addresses} may be null (NULL) when {@code pageCount} is 0: the size query. */
        int nvmlDeviceGetRetiredPages(Pointer device, int cause, IntByReference pageCount, @Out long[] addresses);

        int nvmlDeviceGetRetiredPages_v2(Pointer device, int cause, IntByReference pageCount, @Out long[] addresses,
                @Out long[] timestamps);

        int nvmlDeviceGetRetiredPagesPendingStatus(Pointer device, @Out IntByReference isPending);

        int nvmlDeviceGetRemappedRows(Pointer device, @Out IntByReference corrected, @Out IntByReference uncorrected,
                @Out IntByReference pending, @Out IntByReference failure);

        int nvmlDeviceGetCurrentClocksEventReasons(Pointer device, @Out LongLongByReference reasons);

        int nvmlDeviceGetCurrentClocksThrottleReasons(Pointer device, @Out LongLongByReference reasons);

        int nvmlDeviceGetPcieReplayCounter(Pointer device, @Out IntByReference value);

        int nvmlDeviceGetCurrPcieLinkGeneration(Pointer device, @Out IntByReference generation);

        int nvmlDeviceGetMaxPcieLinkGeneration(Pointer device, @Out IntByReference generation);

        int nvmlDeviceGetCurrPcieLinkWidth(Pointer device, @Out IntByReference width);

        int nvmlDeviceGetMaxPcieLinkWidth(Pointer device, @Out IntByReference width);

        int nvmlDeviceGetNvLinkState(Pointer device, @u_int32_t int link, @Out IntByReference isActive);

        int nvmlDeviceGetNvLinkErrorCounter(Pointer device, @u_int32_t int link, int counter,
                @Out LongLongByReference value);

        /** {@code values}: {@code valuesCount} contiguous {@code nvmlFieldValue_t}s ({@link FieldValueStruct}). */
        int nvmlDeviceGetFieldValues(Pointer device, int valuesCount, Pointer values);

        int nvmlDeviceGetPersistenceMode(Pointer device, @Out IntByReference mode);

        int nvmlDeviceGetPerformanceState(Pointer device, @Out IntByReference pState);

        /** {@code info}: a {@link FabricInfoStruct}. */
        int nvmlDeviceGetGpuFabricInfo(Pointer device, Pointer info);

        /** {@code info}: a {@link FabricInfoV3Struct} or {@link FabricInfoV2Struct} with its version set. */
        int nvmlDeviceGetGpuFabricInfoV(Pointer device, Pointer info);

        int nvmlEventSetCreate(@Out PointerByReference set);

        int nvmlDeviceRegisterEvents(Pointer device, @u_int64_t long eventTypes, Pointer set);

        int nvmlDeviceGetSupportedEventTypes(Pointer device, @Out LongLongByReference eventTypes);

        /** {@code data}: an {@link EventDataStruct}. Blocks up to {@code timeoutms}. */
        int nvmlEventSetWait_v2(Pointer set, Pointer data, @u_int32_t int timeoutms);

        int nvmlEventSetFree(Pointer set);
    }
}
