package io.gpuwarden.nvml;

import java.util.HexFormat;
import jnr.ffi.NativeType;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlGpuFabricInfo_t}, the deprecated v1 call's struct: 28 bytes, no version, no health. */
final class FabricInfoStruct extends Struct {
    static final int UUID_LENGTH = 16;

    final Unsigned8[] clusterUuid = array(new Unsigned8[UUID_LENGTH]);
    final Signed32 status = new Signed32();
    final Unsigned32 cliqueId = new Unsigned32();
    final Unsigned8 state = new Unsigned8();
    final Padding tail = new Padding(NativeType.UCHAR, 3);

    FabricInfoStruct(Runtime runtime) {
        super(runtime);
    }

    GpuFabricInfo toGpuFabricInfo() {
        return new GpuFabricInfo(FabricState.fromCode(state.intValue()), NvmlReturn.fromCode(status.intValue()),
                cliqueId.intValue(), formatUuid(clusterUuid), 0, FabricHealthSummary.NOT_SUPPORTED);
    }

    /** 16 bytes as {@code xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}. */
    static java.lang.String formatUuid(Unsigned8[] bytes) {
        byte[] raw = new byte[bytes.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) bytes[i].intValue();
        }
        java.lang.String hex = HexFormat.of().formatHex(raw);
        return hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }
}
