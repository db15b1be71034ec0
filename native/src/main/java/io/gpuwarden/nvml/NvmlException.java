package io.gpuwarden.nvml;

import java.util.Objects;

/**
 * An NVML call that returned something other than {@code NVML_SUCCESS} (and, for device queries,
 * other than {@code NVML_ERROR_NOT_SUPPORTED}, which becomes {@link NvmlReading#notSupported}).
 *
 * <p>The message reads like {@code nvmlDeviceGetPowerUsage failed: NVML_ERROR_GPU_IS_LOST (15): GPU is lost},
 * the last part being what {@code nvmlErrorString} says about the code.
 */
public class NvmlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String function;
    private final int rawCode;
    private final String nvmlMessage;

    /**
     * @param function the NVML function that failed, e.g. {@code nvmlDeviceGetPowerUsage}
     * @param rawCode the code it returned, kept even when {@link NvmlReturn} does not know it
     * @param nvmlMessage {@code nvmlErrorString(rawCode)}
     */
    public NvmlException(String function, int rawCode, String nvmlMessage) {
        this(function, rawCode, nvmlMessage, null);
    }

    /** As {@link #NvmlException(String, int, String)}, with the underlying cause (e.g. a missing symbol). */
    public NvmlException(String function, int rawCode, String nvmlMessage, Throwable cause) {
        this(describe(function, rawCode, nvmlMessage), function, rawCode, nvmlMessage, cause);
    }

    /** For subclasses that word their own message. */
    protected NvmlException(String message, String function, int rawCode, String nvmlMessage, Throwable cause) {
        super(message, cause);
        this.function = Objects.requireNonNull(function, "function");
        this.rawCode = rawCode;
        this.nvmlMessage = Objects.requireNonNull(nvmlMessage, "nvmlMessage");
    }

    private static String describe(String function, int rawCode, String nvmlMessage) {
        return function + " failed: " + NvmlReturn.fromCode(rawCode).constantName() + " (" + rawCode + "): "
                + nvmlMessage;
    }

    /** The code as a constant; {@link NvmlReturn#UNKNOWN} for codes this library does not know. */
    public NvmlReturn returnCode() {
        return NvmlReturn.fromCode(rawCode);
    }

    /** The number NVML returned. */
    public int rawCode() {
        return rawCode;
    }

    /** The NVML function (exported symbol) that failed. */
    public String function() {
        return function;
    }

    /** NVML's own description of the code, from {@code nvmlErrorString}. */
    public String nvmlMessage() {
        return nvmlMessage;
    }
}
