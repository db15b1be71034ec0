package io.gpuwarden.nvml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void clockEventReasonsDecodeFromTheMaskAndBack() {
        assertThat(ClockEventReason.decode(0x48)).containsExactly(ClockEventReason.HW_SLOWDOWN,
                ClockEventReason.HW_THERMAL_SLOWDOWN);
        assertThat(ClockEventReason.decode(0x1FF)).hasSize(9);
        assertThat(ClockEventReason.decode(0)).isEmpty();
        assertThat(ClockEventReason.decode(0x200 | 0x1)).as("unknown bits ignored").containsExactly(ClockEventReason.GPU_IDLE);
        assertThat(ClockEventReason.DISPLAY_CLOCK_SETTING.bit()).isEqualTo(0x100);
        assertThat(ClockEventReason.encode(ClockEventReason.decode(0x1FF))).isEqualTo(0x1FF);
    }

    @Test
    void unknownEnumCodesBecomeUnknown() {
        assertThat(GpuRecoveryAction.fromCode(4)).isEqualTo(GpuRecoveryAction.DRAIN_AND_RESET);
        assertThat(GpuRecoveryAction.fromCode(5)).isEqualTo(GpuRecoveryAction.RECOVER_IMEX_DOMAIN);
        assertThat(GpuRecoveryAction.fromCode(6)).isEqualTo(GpuRecoveryAction.UNKNOWN);
        assertThat(GpuRecoveryAction.fromCode(-1)).isEqualTo(GpuRecoveryAction.UNKNOWN);
        assertThat(FabricState.fromCode(3)).isEqualTo(FabricState.COMPLETED);
        assertThat(FabricState.fromCode(4)).isEqualTo(FabricState.UNKNOWN);
        assertThat(FabricHealthSummary.fromCode(2)).isEqualTo(FabricHealthSummary.UNHEALTHY);
    }

    @Test
    void fabricHealthFieldsReadTheirBitsOnly() {
        int mask = FabricHealthField.PARTITION_ASSIGNED.with(
                FabricHealthField.INCORRECT_CONFIGURATION.with(FabricHealthField.ROUTE_UNHEALTHY.with(0, 1), 5), 2);

        assertThat(mask).isEqualTo((1 << 4) | (5 << 8) | (2 << 12));
        assertThat(FabricHealthField.ROUTE_UNHEALTHY.flag(mask)).contains(true);
        assertThat(FabricHealthField.PARTITION_ASSIGNED.flag(mask)).contains(false);
        assertThat(FabricHealthField.DEGRADED_BANDWIDTH.flag(mask)).isEmpty();
        assertThat(FabricHealthField.INCORRECT_CONFIGURATION.valueIn(mask)).isEqualTo(5);
        assertThat(FabricHealthField.ACCESS_TIMEOUT_RECOVERY.flag(3 << 6)).as("an undefined value").isEmpty();
        assertThatThrownBy(() -> FabricHealthField.INCORRECT_CONFIGURATION.flag(mask))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void retiredPagesPrintTheirAddressInHex() {
        assertThat(new RetiredPage(0x3c2a1000L, 7)).hasToString("RetiredPage[address=0x3c2a1000, timestampMicros=7]");
    }
}
