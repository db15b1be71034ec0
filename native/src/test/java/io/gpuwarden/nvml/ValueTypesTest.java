package io.gpuwarden.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ValueTypesTest {

    @Test
    void cudaVersionDecodesNvmlsThousandsEncoding() {
        assertThat(CudaVersion.fromEncoded(12040)).isEqualTo(new CudaVersion(12, 4)).hasToString("12.4");
        assertThat(CudaVersion.fromEncoded(11080)).hasToString("11.8");
        assertThat(CudaVersion.fromEncoded(13000)).hasToString("13.0");
    }

    @Test
    void pciIdsSplitIntoVendorAndDeviceEvenWithTheTopBitSet() {
        PciInfo pci = new PciInfo("00000000:18:00.0", "0000:18:00.0", 0, 0x18, 0, 0xA00010DE, 0x145F10DE);

        assertThat(pci.pciDeviceId()).isNegative();
        assertThat(pci.vendorId()).isEqualTo(0x10DE);
        assertThat(pci.deviceId()).isEqualTo(0xA000);
        assertThat(pci).hasToString("PciInfo[busId=00000000:18:00.0, busIdLegacy=0000:18:00.0, domain=0, bus=0x18, "
                + "device=0x00, pciDeviceId=0xA00010DE, pciSubSystemId=0x145F10DE]");
    }
}
