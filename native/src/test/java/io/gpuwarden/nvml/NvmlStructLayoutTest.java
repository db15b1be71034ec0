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
}
