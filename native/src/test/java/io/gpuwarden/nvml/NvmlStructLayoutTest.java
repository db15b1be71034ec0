package io.gpuwarden.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NvmlStructLayoutTest {
    private static Map<String, Long> cLayout;
    private final Runtime runtime = Runtime.getSystemRuntime();

    @BeforeAll
    static void runLayoutProgram() throws IOException, InterruptedException {
        Process process = new ProcessBuilder(FakeNvmlEnvironment.layoutProgram().toString()).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).isZero();
        cLayout = new LinkedHashMap<>();
        output.lines().map(line -> line.split(" ")).forEach(parts -> cLayout.put(parts[0], Long.parseLong(parts[1])));
    }

    @Test
    void pciInfoMatchesTheCLayout() {
        PciInfoStruct pci = new PciInfoStruct(runtime);
        assertThat((long) Struct.size(pci)).isEqualTo(cLayout.get("nvmlPciInfo_t")).isEqualTo(68);
        assertThat(pci.busIdLegacy.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.busIdLegacy"));
        assertThat(pci.domain.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.domain"));
        assertThat(pci.bus.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.bus"));
        assertThat(pci.device.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.device"));
        assertThat(pci.pciDeviceId.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.pciDeviceId"));
        assertThat(pci.pciSubSystemId.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.pciSubSystemId"));
        assertThat(pci.busId.offset()).isEqualTo(cLayout.get("nvmlPciInfo_t.busId")).isEqualTo(36);
    }

    @Test
    void utilizationMatchesTheCLayout() {
        UtilizationStruct utilization = new UtilizationStruct(runtime);
        assertThat((long) Struct.size(utilization)).isEqualTo(cLayout.get("nvmlUtilization_t")).isEqualTo(8);
        assertThat(utilization.gpu.offset()).isEqualTo(cLayout.get("nvmlUtilization_t.gpu"));
        assertThat(utilization.memory.offset()).isEqualTo(cLayout.get("nvmlUtilization_t.memory"));
    }

    @Test
    void memoryV1MatchesTheCLayout() {
        MemoryStruct memory = new MemoryStruct(runtime);
        assertThat((long) Struct.size(memory)).isEqualTo(cLayout.get("nvmlMemory_t")).isEqualTo(24);
        assertThat(memory.total.offset()).isEqualTo(cLayout.get("nvmlMemory_t.total"));
        assertThat(memory.free.offset()).isEqualTo(cLayout.get("nvmlMemory_t.free"));
        assertThat(memory.used.offset()).isEqualTo(cLayout.get("nvmlMemory_t.used"));
    }

    @Test
    void memoryV2MatchesTheCLayoutIncludingItsPadding() {
        MemoryV2Struct memory = new MemoryV2Struct(runtime);
        assertThat((long) Struct.size(memory)).isEqualTo(cLayout.get("nvmlMemory_v2_t")).isEqualTo(40);
        assertThat(memory.version.offset()).isEqualTo(cLayout.get("nvmlMemory_v2_t.version"));
        assertThat(memory.total.offset()).isEqualTo(cLayout.get("nvmlMemory_v2_t.total")).isEqualTo(8);
        assertThat(memory.reserved.offset()).isEqualTo(cLayout.get("nvmlMemory_v2_t.reserved"));
        assertThat(memory.free.offset()).isEqualTo(cLayout.get("nvmlMemory_v2_t.free"));
        assertThat(memory.used.offset()).isEqualTo(cLayout.get("nvmlMemory_v2_t.used"));
        assertThat((long) MemoryV2Struct.VERSION).isEqualTo(cLayout.get("nvmlMemory_v2"));
    }

    @Test
    void temperatureMatchesTheCLayout() {
        TemperatureStruct temperature = new TemperatureStruct(runtime);
        assertThat((long) Struct.size(temperature)).isEqualTo(cLayout.get("nvmlTemperature_t")).isEqualTo(12);
        assertThat(temperature.version.offset()).isEqualTo(cLayout.get("nvmlTemperature_t.version"));
        assertThat(temperature.sensorType.offset()).isEqualTo(cLayout.get("nvmlTemperature_t.sensorType"));
        assertThat(temperature.temperature.offset()).isEqualTo(cLayout.get("nvmlTemperature_t.temperature"));
        assertThat((long) TemperatureStruct.VERSION).isEqualTo(cLayout.get("nvmlTemperature_v1"));
    }

    @Test
    void fieldValueMatchesTheCLayout() {
        FieldValueStruct value = new FieldValueStruct(runtime);
        assertThat((long) Struct.size(value)).isEqualTo(cLayout.get("nvmlFieldValue_t")).isEqualTo(FieldValueStruct.SIZE);
        assertThat(value.fieldId.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.fieldId"));
        assertThat(value.scopeId.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.scopeId"));
        assertThat(value.timestamp.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.timestamp"));
        assertThat(value.latencyUsec.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.latencyUsec"));
        assertThat(value.valueType.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.valueType"));
        assertThat(value.nvmlReturn.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.nvmlReturn"));
        assertThat(value.value.offset()).isEqualTo(cLayout.get("nvmlFieldValue_t.value")).isEqualTo(32);
    }

    @Test
    void eventDataMatchesTheCLayout() {
        EventDataStruct data = new EventDataStruct(runtime);
        assertThat((long) Struct.size(data)).isEqualTo(cLayout.get("nvmlEventData_t")).isEqualTo(32);
        assertThat(data.device.offset()).isEqualTo(cLayout.get("nvmlEventData_t.device"));
        assertThat(data.eventType.offset()).isEqualTo(cLayout.get("nvmlEventData_t.eventType"));
        assertThat(data.eventData.offset()).isEqualTo(cLayout.get("nvmlEventData_t.eventData"));
        assertThat(data.gpuInstanceId.offset()).isEqualTo(cLayout.get("nvmlEventData_t.gpuInstanceId"));
        assertThat(data.computeInstanceId.offset()).isEqualTo(cLayout.get("nvmlEventData_t.computeInstanceId"));
    }

    @Test
    void fabricInfoVersion1MatchesTheCLayout() {
        FabricInfoStruct info = new FabricInfoStruct(runtime);
        assertThat((long) Struct.size(info)).isEqualTo(cLayout.get("nvmlGpuFabricInfo_t")).isEqualTo(28);
        assertThat(info.clusterUuid[0].offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_t.clusterUuid"));
        assertThat(info.clusterUuid[15].offset()).isEqualTo(15);
        assertThat(info.status.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_t.status"));
        assertThat(info.cliqueId.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_t.cliqueId"));
        assertThat(info.state.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_t.state"));
    }

    @Test
    void fabricInfoVersion2MatchesTheCLayout() {
        FabricInfoV2Struct info = new FabricInfoV2Struct(runtime);
        assertThat((long) Struct.size(info)).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t")).isEqualTo(36);
        assertThat(info.version.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.version"));
        assertThat(info.clusterUuid[0].offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.clusterUuid"));
        assertThat(info.status.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.status"));
        assertThat(info.cliqueId.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.cliqueId"));
        assertThat(info.state.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.state"));
        assertThat(info.healthMask.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2_t.healthMask"));
        assertThat((long) FabricInfoV2Struct.VERSION).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v2"));
    }

    @Test
    void fabricInfoVersion3MatchesTheCLayout() {
        FabricInfoV3Struct info = new FabricInfoV3Struct(runtime);
        assertThat((long) Struct.size(info)).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t")).isEqualTo(40);
        assertThat(info.version.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.version"));
        assertThat(info.clusterUuid[0].offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.clusterUuid"));
        assertThat(info.status.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.status"));
        assertThat(info.cliqueId.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.cliqueId"));
        assertThat(info.state.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.state"));
        assertThat(info.healthMask.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.healthMask"));
        assertThat(info.healthSummary.offset()).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3_t.healthSummary"));
        assertThat((long) FabricInfoV3Struct.VERSION).isEqualTo(cLayout.get("nvmlGpuFabricInfo_v3"));
    }
}
