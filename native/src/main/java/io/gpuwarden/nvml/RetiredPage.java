package io.gpuwarden.nvml;

import java.util.Locale;

/**
 * One retired framebuffer page ({@code nvmlDeviceGetRetiredPages_v2}).
 *
 * @param address the page's physical address
 * @param timestampMicros when it was retired, microseconds since the epoch; 0 when the driver
 *     only has the older call, which reports no time
 */
public record RetiredPage(long address, long timestampMicros) {

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "RetiredPage[address=0x%x, timestampMicros=%d]", address, timestampMicros);
    }
}
