package io.gpuwarden.nvml;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/** {@code nvmlPciInfo_t}: 68 bytes. */
final class PciInfoStruct extends Struct {
    final UTF8String busIdLegacy = new UTF8String(16);
    final Unsigned32 domain = new Unsigned32();
    final Unsigned32 bus = new Unsigned32();
    final Unsigned32 device = new Unsigned32();
    final Unsigned32 pciDeviceId = new Unsigned32();
    final Unsigned32 pciSubSystemId = new Unsigned32();
    final UTF8String busId = new UTF8String(32);

    PciInfoStruct(Runtime runtime) {
        super(runtime);
    }

    PciInfo toPciInfo() {
        return new PciInfo(busId.get(), busIdLegacy.get(), domain.intValue(), bus.intValue(), device.intValue(),
                pciDeviceId.intValue(), pciSubSystemId.intValue());
    }
}
