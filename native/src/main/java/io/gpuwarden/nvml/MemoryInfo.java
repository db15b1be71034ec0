package io.gpuwarden.nvml;

/**
 * Device memory in bytes ({@code nvmlMemory_v2_t}). On drivers without the v2 call, reserved is 0
 * and used includes the memory the driver reserves, as the v1 call reports it.
 *
 * @param totalBytes installed memory
 * @param reservedBytes set aside by the driver and firmware
 * @param freeBytes {@code total - reserved - used}
 * @param usedBytes allocated by processes
 */
public record MemoryInfo(long totalBytes, long reservedBytes, long freeBytes, long usedBytes) {
}
