package io.gpuwarden.nvml;

/**
 * Whether ECC is on ({@code nvmlDeviceGetEccMode}). A change takes effect at the next reset, so
 * {@code current != pending} means one is due.
 *
 * @param current ECC is enabled now
 * @param pending ECC will be enabled after the next reset
 */
public record EccMode(boolean current, boolean pending) {

    /** A mode change waits for a GPU reset. */
    public boolean changePending() {
        return current != pending;
    }
}
