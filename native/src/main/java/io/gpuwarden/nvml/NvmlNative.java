package io.gpuwarden.nvml;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import jnr.ffi.types.u_int32_t;

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
    }
}
