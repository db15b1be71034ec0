package io.gpuwarden.nvml;

import java.util.Objects;
import java.util.Optional;

/**
 * One entry of {@link NvmlDevice#fieldValues(java.util.List)}. Each entry succeeds or fails on its
 * own: {@code result} is that entry's code, and {@code value} is present only on success.
 *
 * <p>Numbers keep NVML's value type: {@code Double} for doubles, {@code Long} for unsigned int,
 * unsigned long, unsigned long long (the 64 bits as they are, so read values above
 * {@code Long.MAX_VALUE} with {@link Long#toUnsignedString(long)}) and signed long long,
 * {@code Integer} for signed int and unsigned short.
 *
 * @param fieldId the requested field
 * @param scopeId the requested scope
 * @param timestampMicros when NVML read the value, microseconds since the epoch (0 when not read)
 * @param latencyMicros how long reading it took
 * @param result {@link NvmlReturn#SUCCESS}, or why this entry has no value
 * @param value the value, if {@code result} is SUCCESS and the value type is one NVML defines
 */
public record FieldValue(int fieldId, int scopeId, long timestampMicros, long latencyMicros, NvmlReturn result,
        Optional<Number> value) {

    public FieldValue {
        Objects.requireNonNull(result, "result");
        Objects.requireNonNull(value, "value");
    }

    /** The entry has a value. */
    public boolean isSuccess() {
        return result == NvmlReturn.SUCCESS && value.isPresent();
    }

    /**
     * The driver cannot answer this entry as asked: {@link NvmlReturn#NOT_SUPPORTED}, or
     * {@link NvmlReturn#INVALID_ARGUMENT}, which NVML answers an entry whose field id is unknown to
     * the driver (at or above that driver's {@code NVML_FI_MAX}, e.g. the recovery action, field 230,
     * before R565) or whose scope it rejects. Neither says anything about the GPU.
     */
    public boolean isUnsupported() {
        return result == NvmlReturn.NOT_SUPPORTED || result == NvmlReturn.INVALID_ARGUMENT;
    }
}
