package io.gpuwarden.nvml;

import jnr.ffi.NativeType;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlGpuFabricInfo_v3_t}: 40 bytes, v2 plus the health summary. */
final class FabricInfoV3Struct extends Struct {
    /** {@code NVML_STRUCT_VERSION(GpuFabricInfo, 3)}: {@code sizeof | 3 << 24}. */
    static final int VERSION = 0x03000028;

    final Unsigned32 version = new Unsigned32();
    final Unsigned8[] clusterUuid = array(new Unsigned8[FabricInfoStruct.UUID_LENGTH]);
    final Signed32 status = new Signed32();
    final Unsigned32 cliqueId = new Unsigned32();
    final Unsigned8 state = new Unsigned8();
    final Unsigned32 healthMask = new Unsigned32();
    final Unsigned8 healthSummary = new Unsigned8();
    final Padding tail = new Padding(NativeType.UCHAR, 3);

    FabricInfoV3Struct(Runtime runtime) {
        super(runtime);
    }

    GpuFabricInfo toGpuFabricInfo() {
        return new GpuFabricInfo(FabricState.fromCode(state.intValue()), NvmlReturn.fromCode(status.intValue()),
                cliqueId.intValue(), FabricInfoStruct.formatUuid(clusterUuid), healthMask.intValue(),
                FabricHealthSummary.fromCode(healthSummary.intValue()));
    }
}
