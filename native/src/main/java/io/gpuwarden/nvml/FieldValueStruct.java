package io.gpuwarden.nvml;

import java.util.Optional;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * {@code nvmlFieldValue_t}: 40 bytes. {@link NvmlDevice#fieldValues} lays several out back to back
 * in one block of native memory, as the C array NVML expects.
 */
final class FieldValueStruct extends Struct {
    static final int SIZE = 40;

    private static final int DOUBLE = 0;
    private static final int UNSIGNED_INT = 1;
    private static final int UNSIGNED_LONG = 2;
    private static final int UNSIGNED_LONG_LONG = 3;
    private static final int SIGNED_LONG_LONG = 4;
    private static final int SIGNED_INT = 5;
    private static final int UNSIGNED_SHORT = 6;

    final Unsigned32 fieldId = new Unsigned32();
    final Unsigned32 scopeId = new Unsigned32();
    final Signed64 timestamp = new Signed64();
    final Signed64 latencyUsec = new Signed64();
    final Signed32 valueType = new Signed32();
    final Signed32 nvmlReturn = new Signed32();
    /** The {@code nvmlValue_t} union; read according to {@link #valueType}. */
    final Unsigned64 value = new Unsigned64();

    FieldValueStruct(Runtime runtime) {
        super(runtime);
    }

    FieldValue toFieldValue() {
        NvmlReturn result = NvmlReturn.fromCode(nvmlReturn.intValue());
        Optional<Number> number = result == NvmlReturn.SUCCESS ? decodeValue() : Optional.empty();
        return new FieldValue(fieldId.intValue(), scopeId.intValue(), timestamp.longValue(), latencyUsec.longValue(),
                result, number);
    }

    /** Reads the union member valueType names, from memory, so the byte order is the machine's own. */
    private Optional<Number> decodeValue() {
        jnr.ffi.Pointer memory = Struct.getMemory(this);
        long at = value.offset();
        return switch (valueType.intValue()) {
            case DOUBLE -> Optional.of(memory.getDouble(at));
            case UNSIGNED_INT -> Optional.of(Integer.toUnsignedLong(memory.getInt(at)));
            case UNSIGNED_LONG -> Optional.of(memory.getNativeLong(at));
            case UNSIGNED_LONG_LONG, SIGNED_LONG_LONG -> Optional.of(memory.getLongLong(at));
            case SIGNED_INT -> Optional.of(memory.getInt(at));
            case UNSIGNED_SHORT -> Optional.of(Short.toUnsignedInt(memory.getShort(at)));
            default -> Optional.empty();
        };
    }
}
