package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NvmlFieldValuesTest {
    /** An id above every driver's NVML_FI_MAX: no driver knows it. */
    private static final int UNKNOWN_FIELD = 9_999;
    /** NVML_FI_DEV_MEMORY_TEMP: a field every profile knows but the fake does not model. */
    private static final int UNMODELLED_FIELD = 82;

    private Nvml nvml;

    @BeforeEach
    void openUnhealthyNode() {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-unhealthy")));
        nvml = FakeNvmlEnvironment.open();
    }

    @AfterEach
    void closeNvml() {
        nvml.close();
    }

    @Test
    void eachEntrySucceedsOrFailsOnItsOwn() {
        long before = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis());

        List<FieldValue> values = nvml.device(6).fieldValues(List.of(
                FieldRequest.of(NvmlFieldId.NVLINK_LINK_COUNT),
                new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 7),
                new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 8),
                new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 17),
                new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 18),
                FieldRequest.of(UNKNOWN_FIELD),
                FieldRequest.of(UNMODELLED_FIELD),
                FieldRequest.of(NvmlFieldId.NVLINK_REPLAY_ERROR_COUNT_TOTAL),
                FieldRequest.of(NvmlFieldId.GPU_RECOVERY_ACTION)));

        long after = TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis() + 1);
        assertThat(values).extracting(FieldValue::fieldId, FieldValue::scopeId, FieldValue::result, FieldValue::value)
                .containsExactly(
                        tuple(91, 0, NvmlReturn.SUCCESS, Optional.of(18L)),
                        tuple(165, 7, NvmlReturn.SUCCESS, Optional.of(0L)),
                        tuple(165, 8, NvmlReturn.SUCCESS, Optional.of(1L)),
                        tuple(165, 17, NvmlReturn.SUCCESS, Optional.of(1L)),
                        tuple(165, 18, NvmlReturn.INVALID_ARGUMENT, Optional.empty()),
                        tuple(UNKNOWN_FIELD, 0, NvmlReturn.INVALID_ARGUMENT, Optional.empty()),
                        tuple(UNMODELLED_FIELD, 0, NvmlReturn.NOT_SUPPORTED, Optional.empty()),
                        tuple(52, 0, NvmlReturn.SUCCESS, Optional.of(214L)),
                        tuple(230, 0, NvmlReturn.SUCCESS, Optional.of(0L)));
        assertThat(values).allSatisfy(value -> assertThat(value.timestampMicros()).isBetween(before, after));
        assertThat(values.get(0).isSuccess()).isTrue();
        assertThat(values.get(4).isSuccess()).isFalse();
        assertThat(values).extracting(FieldValue::isUnsupported)
                .containsExactly(false, false, false, false, true, true, true, false, false);
    }

    @Test
    void readsTheEccRemappingAndRetirementFields() {
        List<FieldValue> values = nvml.device(2).fieldValues(List.of(
                FieldRequest.of(NvmlFieldId.ECC_DBE_VOLATILE_TOTAL),
                FieldRequest.of(NvmlFieldId.ECC_SBE_VOLATILE_TOTAL),
                FieldRequest.of(NvmlFieldId.REMAPPED_UNCORRECTED),
                FieldRequest.of(NvmlFieldId.REMAPPED_FAILURE),
                FieldRequest.of(NvmlFieldId.RETIRED_DBE),
                FieldRequest.of(NvmlFieldId.PCIE_REPLAY_COUNTER),
                FieldRequest.of(NvmlFieldId.GPU_RECOVERY_ACTION)));

        assertThat(values).extracting(value -> value.value().orElseThrow())
                .containsExactly(2L, 0L, 8L, 1L, 0L, 0L, (long) GpuRecoveryAction.GPU_RESET.code());
    }

    @Test
    void withEccOffTheEccFieldsAloneAreNotSupported() {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-unhealthy")).toBuilder()
                .gpu(2, gpu -> gpu.eccMode(false)).build());

        List<FieldValue> values = nvml.device(2).fieldValues(List.of(
                FieldRequest.of(NvmlFieldId.ECC_DBE_VOLATILE_TOTAL),
                FieldRequest.of(NvmlFieldId.ECC_SBE_AGGREGATE_TOTAL),
                FieldRequest.of(NvmlFieldId.REMAPPED_FAILURE)));

        assertThat(values).extracting(FieldValue::result)
                .containsExactly(NvmlReturn.NOT_SUPPORTED, NvmlReturn.NOT_SUPPORTED, NvmlReturn.SUCCESS);
    }

    @Test
    void aCallNvmlDoesNotSupportAtAllMakesEveryEntryNotSupported() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.fail("nvmlDeviceGetFieldValues", NvmlReturn.NOT_SUPPORTED)).build());

        List<FieldValue> values = nvml.device(0).fieldValues(List.of(FieldRequest.of(NvmlFieldId.NVLINK_LINK_COUNT),
                new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, 2)));

        assertThat(values).containsExactly(
                new FieldValue(91, 0, 0, 0, NvmlReturn.NOT_SUPPORTED, Optional.empty()),
                new FieldValue(165, 2, 0, 0, NvmlReturn.NOT_SUPPORTED, Optional.empty()));
        assertThat(nvml.device(0).gpuRecoveryAction()).isEqualTo(NvmlReading.notSupported("nvmlDeviceGetFieldValues"));
    }

    @Test
    void aWholeCallFailureOtherThanNotSupportedThrows() {
        NvmlDevice gpu = nvml.device(1);
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().gpu(1, g -> g.lost(true)).build());

        assertThatThrownBy(() -> gpu.fieldValues(List.of(FieldRequest.of(NvmlFieldId.NVLINK_LINK_COUNT))))
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.GPU_IS_LOST);
                    assertThat(e.function()).isEqualTo("nvmlDeviceGetFieldValues");
                });
    }

    @Test
    void anInjectedEntryErrorFailsThatEntryOnly() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .gpu(0, gpu -> gpu.failField(NvmlFieldId.GPU_RECOVERY_ACTION, NvmlReturn.NO_PERMISSION)).build());

        List<FieldValue> values = nvml.device(0).fieldValues(List.of(FieldRequest.of(NvmlFieldId.GPU_RECOVERY_ACTION),
                FieldRequest.of(NvmlFieldId.NVLINK_LINK_COUNT)));

        assertThat(values).extracting(FieldValue::result).containsExactly(NvmlReturn.NO_PERMISSION, NvmlReturn.SUCCESS);
        assertThat(nvml.device(0).nvlinkLinkCount()).isEqualTo(NvmlReading.of("nvmlDeviceGetFieldValues", 18));
        assertThatThrownBy(() -> nvml.device(0).gpuRecoveryAction())
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.NO_PERMISSION);
                    assertThat(e.function()).isEqualTo("nvmlDeviceGetFieldValues");
                });
        assertThat(nvml.device(1).gpuRecoveryAction().value()).isEqualTo(GpuRecoveryAction.NONE);
    }

    @Test
    void noRequestsMeansNoCall() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder()
                .fail("nvmlDeviceGetFieldValues", NvmlReturn.UNKNOWN).build());

        assertThat(nvml.device(0).fieldValues(List.of())).isEmpty();
    }

    @Test
    void decodesEveryValueTypeOfTheUnion() {
        Runtime runtime = Runtime.getSystemRuntime();

        assertThat(decoded(runtime, 0, memory -> memory.putDouble(32, 1.25))).contains(1.25);
        assertThat(decoded(runtime, 1, memory -> memory.putInt(32, 0xFFFF_FFFE))).contains(0xFFFF_FFFEL);
        assertThat(decoded(runtime, 2, memory -> memory.putLong(32, Long.MIN_VALUE))).contains(Long.MIN_VALUE);
        assertThat(decoded(runtime, 3, memory -> memory.putLong(32, -1L))).contains(-1L);
        assertThat(decoded(runtime, 4, memory -> memory.putLong(32, -42L))).contains(-42L);
        assertThat(decoded(runtime, 5, memory -> memory.putInt(32, -7))).contains(-7);
        assertThat(decoded(runtime, 6, memory -> memory.putShort(32, (short) 0xFFFE))).contains(0xFFFE);
        assertThat(decoded(runtime, 7, memory -> memory.putLong(32, 5))).isEmpty();
    }

    private static Optional<Number> decoded(Runtime runtime, int valueType, Consumer<jnr.ffi.Pointer> write) {
        FieldValueStruct entry = new FieldValueStruct(runtime);
        entry.useMemory(runtime.getMemoryManager().allocateDirect(FieldValueStruct.SIZE, true));
        entry.fieldId.set(NvmlFieldId.GPU_RECOVERY_ACTION);
        entry.valueType.set(valueType);
        write.accept(Struct.getMemory(entry));
        FieldValue value = entry.toFieldValue();
        assertThat(value.fieldId()).isEqualTo(230);
        assertThat(value.result()).isEqualTo(NvmlReturn.SUCCESS);
        return value.value();
    }

    private static org.assertj.core.groups.Tuple tuple(Object... values) {
        return org.assertj.core.groups.Tuple.tuple(values);
    }
}
