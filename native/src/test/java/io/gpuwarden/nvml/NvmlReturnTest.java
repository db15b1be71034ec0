package io.gpuwarden.nvml;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NvmlReturnTest {

    @Test
    void coversEveryCodeOfTheNvml13HeaderInOrder() {
        assertThat(Arrays.stream(NvmlReturn.values()).mapToInt(NvmlReturn::code))
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
                        24, 25, 26, 27, 28, 29, 30, 999);
    }

    @Test
    void mapsCodesToConstantsAndUnknownCodesToUnknown() {
        assertThat(NvmlReturn.fromCode(15)).isEqualTo(NvmlReturn.GPU_IS_LOST);
        assertThat(NvmlReturn.fromCode(25)).isEqualTo(NvmlReturn.ARGUMENT_VERSION_MISMATCH);
        assertThat(NvmlReturn.fromCode(999)).isEqualTo(NvmlReturn.UNKNOWN);
        assertThat(NvmlReturn.fromCode(31)).isEqualTo(NvmlReturn.UNKNOWN);
        assertThat(NvmlReturn.fromCode(-1)).isEqualTo(NvmlReturn.UNKNOWN);
    }

    @Test
    void namesConstantsAsTheCHeaderDoes() {
        assertThat(NvmlReturn.SUCCESS.constantName()).isEqualTo("NVML_SUCCESS");
        assertThat(NvmlReturn.GPU_IS_LOST.constantName()).isEqualTo("NVML_ERROR_GPU_IS_LOST");
        assertThat(NvmlReturn.LIB_RM_VERSION_MISMATCH.constantName()).isEqualTo("NVML_ERROR_LIB_RM_VERSION_MISMATCH");
    }
}
