package io.gpuwarden.nvml;

/**
 * Row remapping, Ampere's and later GPUs' replacement for page retirement ({@code nvmlDeviceGetRemappedRows}).
 *
 * @param corrected rows remapped because of corrected errors
 * @param uncorrected rows remapped because of uncorrected errors
 * @param pending a remap waits for the next GPU reset
 * @param failure a remap failed: the bank ran out of spare rows, the board needs service
 */
public record RemappedRows(int corrected, int uncorrected, boolean pending, boolean failure) {
}
