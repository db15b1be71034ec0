package io.gpuwarden.nvml;

/**
 * The event type bits ({@code nvmlEventType*}) for {@link NvmlEventSet#register(NvmlDevice, long)},
 * {@link NvmlDevice#supportedEventTypes()} and {@link NvmlEvent#eventType()}.
 *
 * <pre>{@code
 * events.register(device, NvmlEventType.XID_CRITICAL_ERROR | NvmlEventType.DOUBLE_BIT_ECC_ERROR);
 * }</pre>
 */
public final class NvmlEventType {
    public static final long SINGLE_BIT_ECC_ERROR = 0x1L;
    public static final long DOUBLE_BIT_ECC_ERROR = 0x2L;
    public static final long PSTATE = 0x4L;
    /** An Xid; the event's data is the Xid number. */
    public static final long XID_CRITICAL_ERROR = 0x8L;
    public static final long CLOCK = 0x10L;
    public static final long POWER_SOURCE_CHANGE = 0x80L;
    public static final long MIG_CONFIG_CHANGE = 0x100L;
    public static final long SINGLE_BIT_ECC_ERROR_STORM = 0x200L;
    public static final long DRAM_RETIREMENT_EVENT = 0x400L;
    public static final long DRAM_RETIREMENT_FAILURE = 0x800L;
    public static final long NON_FATAL_POISON_ERROR = 0x1000L;
    public static final long FATAL_POISON_ERROR = 0x2000L;
    public static final long GPU_UNAVAILABLE_ERROR = 0x4000L;
    public static final long GPU_RECOVERY_ACTION = 0x8000L;
    /** {@code nvmlEventTypeAll}: every type above. */
    public static final long ALL = 0xFF9FL;

    private NvmlEventType() {
    }
}
