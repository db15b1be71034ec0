package io.gpuwarden.nvml;

import java.util.Locale;
import java.util.Objects;

/**
 * Where a GPU sits on PCI ({@code nvmlPciInfo_t}).
 *
 * @param busId e.g. {@code 00000000:18:00.0} (8-digit domain); the stable key for a GPU across reboots
 * @param busIdLegacy the same with a 4-digit domain, e.g. {@code 0000:18:00.0}
 * @param domain PCI domain
 * @param bus PCI bus
 * @param device PCI device
 * @param pciDeviceId {@code (device id << 16) | vendor id}, an unsigned value kept in an int (H100 SXM: 0x233010DE)
 * @param pciSubSystemId the subsystem id, unsigned in an int
 */
public record PciInfo(String busId, String busIdLegacy, int domain, int bus, int device, int pciDeviceId,
        int pciSubSystemId) {

    /** NVIDIA's PCI vendor id. */
    public static final int NVIDIA_VENDOR_ID = 0x10DE;

    public PciInfo {
        Objects.requireNonNull(busId, "busId");
        Objects.requireNonNull(busIdLegacy, "busIdLegacy");
    }

    /** The low 16 bits of {@link #pciDeviceId()}: the vendor, {@code 0x10DE} for NVIDIA. */
    public int vendorId() {
        return pciDeviceId & 0xFFFF;
    }

    /** The high 16 bits of {@link #pciDeviceId()}: the chip, e.g. {@code 0x2330} for H100 SXM5 80GB. */
    public int deviceId() {
        return pciDeviceId >>> 16;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "PciInfo[busId=%s, busIdLegacy=%s, domain=%d, bus=0x%02X, device=0x%02X, pciDeviceId=0x%08X, pciSubSystemId=0x%08X]",
                busId, busIdLegacy, domain, bus, device, pciDeviceId, pciSubSystemId);
    }
}
