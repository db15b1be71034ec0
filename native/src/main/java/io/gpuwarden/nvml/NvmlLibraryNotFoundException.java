package io.gpuwarden.nvml;

import java.util.List;

/**
 * {@code libnvidia-ml.so.1} could not be loaded, so NVML never ran: the code is
 * {@link NvmlReturn#LIBRARY_NOT_FOUND}, as go-nvml reports it, and {@link #function()} is
 * {@code nvmlInit_v2}, the call that could not be made. The message names every path or name
 * tried and why the dynamic loader refused, e.g.
 * {@code cannot load the NVML library (tried /opt/nvidia/libnvidia-ml.so.1): no such file}.
 */
public final class NvmlLibraryNotFoundException extends NvmlException {
    private static final long serialVersionUID = 1L;

    /** nvmlErrorString's wording for code 12; the library that would say it is what is missing. */
    static final String NVML_MESSAGE = "NVML Shared Library Not Found";

    private final List<String> pathsTried;

    NvmlLibraryNotFoundException(List<String> pathsTried, String reason, Throwable cause) {
        super("cannot load the NVML library (tried " + String.join(", ", pathsTried) + "): " + reason,
                "nvmlInit_v2", NvmlReturn.LIBRARY_NOT_FOUND.code(), NVML_MESSAGE, cause);
        this.pathsTried = List.copyOf(pathsTried);
    }

    /** The files or library names handed to the loader, in order. */
    public List<String> pathsTried() {
        return pathsTried;
    }
}
