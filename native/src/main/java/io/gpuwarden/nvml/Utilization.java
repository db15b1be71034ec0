package io.gpuwarden.nvml;

/**
 * How busy a GPU was over NVML's last sample period ({@code nvmlUtilization_t}).
 *
 * @param gpuPercent percent of time a kernel was running
 * @param memoryPercent percent of time device memory was being read or written
 */
public record Utilization(int gpuPercent, int memoryPercent) {
}
