package io.gpuwarden.nvml;

/**
 * One field to read with {@link NvmlDevice#fieldValues(java.util.List)}.
 *
 * @param fieldId an {@code NVML_FI_*} id, e.g. {@link NvmlFieldId#NVLINK_LINK_COUNT}
 * @param scopeId what the field is about where that varies, e.g. the link for per-link NVLink fields; otherwise 0
 */
public record FieldRequest(int fieldId, int scopeId) {

    /** A field without a scope. */
    public static FieldRequest of(int fieldId) {
        return new FieldRequest(fieldId, 0);
    }
}
