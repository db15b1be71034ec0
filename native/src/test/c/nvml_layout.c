/*
 * Prints the sizes and field offsets of the NVML structs as the C compiler lays them out, one
 * "NAME VALUE" pair per line, plus the versioned-struct version words. NvmlStructLayoutTest
 * compares the Java jnr-ffi structs against this output.
 */
#include "fake_nvml.h"

#include <stdio.h>

#define SIZE(type) printf("%s %zu\n", #type, sizeof(type))
#define OFFSET(type, field) printf("%s.%s %zu\n", #type, #field, offsetof(type, field))

int main(void)
{
    SIZE(nvmlPciInfo_t);
    OFFSET(nvmlPciInfo_t, busIdLegacy);
    OFFSET(nvmlPciInfo_t, domain);
    OFFSET(nvmlPciInfo_t, bus);
    OFFSET(nvmlPciInfo_t, device);
    OFFSET(nvmlPciInfo_t, pciDeviceId);
    OFFSET(nvmlPciInfo_t, pciSubSystemId);
    OFFSET(nvmlPciInfo_t, busId);

    SIZE(nvmlUtilization_t);
    OFFSET(nvmlUtilization_t, gpu);
    OFFSET(nvmlUtilization_t, memory);

    SIZE(nvmlMemory_t);
    OFFSET(nvmlMemory_t, total);
    OFFSET(nvmlMemory_t, free);
    OFFSET(nvmlMemory_t, used);

    SIZE(nvmlMemory_v2_t);
    OFFSET(nvmlMemory_v2_t, version);
    OFFSET(nvmlMemory_v2_t, total);
    OFFSET(nvmlMemory_v2_t, reserved);
    OFFSET(nvmlMemory_v2_t, free);
    OFFSET(nvmlMemory_v2_t, used);

    SIZE(nvmlTemperature_t);
    OFFSET(nvmlTemperature_t, version);
    OFFSET(nvmlTemperature_t, sensorType);
    OFFSET(nvmlTemperature_t, temperature);

    SIZE(nvmlFieldValue_t);
    OFFSET(nvmlFieldValue_t, fieldId);
    OFFSET(nvmlFieldValue_t, scopeId);
    OFFSET(nvmlFieldValue_t, timestamp);
    OFFSET(nvmlFieldValue_t, latencyUsec);
    OFFSET(nvmlFieldValue_t, valueType);
    OFFSET(nvmlFieldValue_t, nvmlReturn);
    OFFSET(nvmlFieldValue_t, value);

    SIZE(nvmlEventData_t);
    OFFSET(nvmlEventData_t, device);
    OFFSET(nvmlEventData_t, eventType);
    OFFSET(nvmlEventData_t, eventData);
    OFFSET(nvmlEventData_t, gpuInstanceId);
    OFFSET(nvmlEventData_t, computeInstanceId);

    SIZE(nvmlGpuFabricInfo_t);
    OFFSET(nvmlGpuFabricInfo_t, clusterUuid);
    OFFSET(nvmlGpuFabricInfo_t, status);
    OFFSET(nvmlGpuFabricInfo_t, cliqueId);
    OFFSET(nvmlGpuFabricInfo_t, state);

    SIZE(nvmlGpuFabricInfo_v2_t);
    OFFSET(nvmlGpuFabricInfo_v2_t, version);
    OFFSET(nvmlGpuFabricInfo_v2_t, clusterUuid);
    OFFSET(nvmlGpuFabricInfo_v2_t, status);
    OFFSET(nvmlGpuFabricInfo_v2_t, cliqueId);
    OFFSET(nvmlGpuFabricInfo_v2_t, state);
    OFFSET(nvmlGpuFabricInfo_v2_t, healthMask);

    SIZE(nvmlGpuFabricInfo_v3_t);
    OFFSET(nvmlGpuFabricInfo_v3_t, version);
    OFFSET(nvmlGpuFabricInfo_v3_t, clusterUuid);
    OFFSET(nvmlGpuFabricInfo_v3_t, status);
    OFFSET(nvmlGpuFabricInfo_v3_t, cliqueId);
    OFFSET(nvmlGpuFabricInfo_v3_t, state);
    OFFSET(nvmlGpuFabricInfo_v3_t, healthMask);
    OFFSET(nvmlGpuFabricInfo_v3_t, healthSummary);

    printf("nvmlMemory_v2 %u\n", nvmlMemory_v2);
    printf("nvmlTemperature_v1 %u\n", nvmlTemperature_v1);
    printf("nvmlGpuFabricInfo_v2 %u\n", nvmlGpuFabricInfo_v2);
    printf("nvmlGpuFabricInfo_v3 %u\n", nvmlGpuFabricInfo_v3);
    return 0;
}
