package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlGpuFabricInfo_v2_t}: 36 bytes, with the health mask but no summary. */
final class FabricInfoV2Struct extends Struct {
    /** {@code NVML_STRUCT_VERSION(GpuFabricInfo, 2)}: {@code sizeof | 2 << 24}. */
    static final int VERSION = 0x02000024;

    final Unsigned32 version = new Unsigned32();
    final Unsigned8[] clusterUuid = array(new Unsigned8[FabricInfoStruct.UUID_LENGTH]);
    final Signed32 status = new Signed32();
    final Unsigned32 cliqueId = new Unsigned32();
    final Unsigned8 state = new Unsigned8();
    final Unsigned32 healthMask = new Unsigned32();

    FabricInfoV2Struct(Runtime runtime) {
        super(runtime);
    }

    GpuFabricInfo toGpuFabricInfo() {
        return new GpuFabricInfo(FabricState.fromCode(state.intValue()), NvmlReturn.fromCode(status.intValue()),
                cliqueId.intValue(), FabricInfoStruct.formatUuid(clusterUuid), healthMask.intValue(),
                FabricHealthSummary.NOT_SUPPORTED);
    }
}
