package io.gpuwarden.nvml.fake;

import io.gpuwarden.nvml.ClockEventReason;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.FabricHealthSummary;
import io.gpuwarden.nvml.FabricState;
import io.gpuwarden.nvml.GpuRecoveryAction;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.MemoryLocation;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlEventType;
import io.gpuwarden.nvml.NvmlFieldId;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.PageRetirementCause;
import io.gpuwarden.nvml.RetiredPage;
import java.util.List;

/**
 * A state that uses every typed builder method for the health, fabric, event and fault keys:
 * FakeNvmlStateTest checks what it renders, FakeNvmlLibraryTest that the C fake knows every key.
 */
public final class TypedKeysFixture {

    private TypedKeysFixture() {
    }

    /** Two GPUs; GPU 0 has every per-GPU key set, the node has hang, xid and event keys. */
    public static FakeNvmlState state() {
        return FakeNvmlState.builder()
                .hang("nvmlDeviceGetCount_v2", 0)
                .xid(7, 1, 79)
                .event(8, 0, NvmlEventType.DOUBLE_BIT_ECC_ERROR, 0)
                .event(9, 1, 0x10000L, 3, 1, 0)
                .gpu(0, gpu -> gpu
                        .eccMode(false, true)
                        .eccErrors(EccCounterType.VOLATILE, MemoryErrorType.UNCORRECTED, MemoryLocation.DRAM, 2)
                        .eccErrors(EccCounterType.AGGREGATE, MemoryErrorType.CORRECTED, MemoryLocation.TEXTURE_SHM,
                                NvmlReturn.NOT_SUPPORTED)
                        .eccTotal(EccCounterType.AGGREGATE, MemoryErrorType.UNCORRECTED, 9)
                        .retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR, List.of(
                                new RetiredPage(0x3c2a1000L, 1_714_560_000_000_000L), new RetiredPage(0x1000L, 0)))
                        .retiredPages(PageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS, List.of())
                        .retiredPagesPending(true)
                        .remappedRows(1, 8, false, true)
                        .clockEventReasons(ClockEventReason.HW_SLOWDOWN, ClockEventReason.HW_THERMAL_SLOWDOWN)
                        .pcieReplayCounter(143)
                        .pcieLink(4, 8)
                        .pcieLinkMax(5, 16)
                        .nvlinkCount(18)
                        .nvlinkUp(7, false)
                        .nvlinkErrors(7, NvlinkErrorCounter.DL_CRC_FLIT, 57)
                        .persistenceMode(false)
                        .performanceState(2)
                        .fabric(FabricState.COMPLETED, NvmlReturn.SUCCESS)
                        .fabricCliqueId(32766)
                        .fabricClusterUuid("6f8b2a3c-1d4e-4f5a-9b6c-7d8e9f0a1b2c")
                        .fabricHealth(0x1A9, FabricHealthSummary.LIMITED_CAPACITY)
                        .fabricInfoMaxVersion(2)
                        .recoveryAction(GpuRecoveryAction.DRAIN_P2P)
                        .supportedEventTypes(NvmlEventType.ALL)
                        .failField(NvmlFieldId.GPU_RECOVERY_ACTION, NvmlReturn.NO_PERMISSION)
                        .lost(false)
                        .vanished(false)
                        .hangMillis(0)
                        .hang("nvmlDeviceGetName", 0))
                .gpu(1, gpu -> gpu.recoveryAction(77))
                .build();
    }

}
