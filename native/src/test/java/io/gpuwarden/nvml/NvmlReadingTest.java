package io.gpuwarden.nvml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class NvmlReadingTest {

    @Test
    void aSupportedReadingHandsOutItsValue() {
        NvmlReading<Integer> reading = NvmlReading.of("nvmlDeviceGetPowerUsage", 70_000);

        assertThat(reading.isSupported()).isTrue();
        assertThat(reading.value()).isEqualTo(70_000);
        assertThat(reading.orElse(0)).isEqualTo(70_000);
        assertThat(reading.toOptional()).contains(70_000);
        assertThat(reading.function()).isEqualTo("nvmlDeviceGetPowerUsage");
        assertThat(reading).hasToString("NvmlReading[nvmlDeviceGetPowerUsage: 70000]");
    }

    @Test
    void aNotSupportedReadingRefusesToInventAValue() {
        NvmlReading<Integer> reading = NvmlReading.notSupported("nvmlDeviceGetPowerUsage");

        assertThat(reading.isSupported()).isFalse();
        assertThat(reading.orElse(-1)).isEqualTo(-1);
        assertThat(reading.toOptional()).isEqualTo(Optional.empty());
        assertThatThrownBy(reading::value)
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("nvmlDeviceGetPowerUsage is not supported on this device");
        assertThat(reading).hasToString("NvmlReading[nvmlDeviceGetPowerUsage: not supported]");
    }

    @Test
    void mapTransformsValuesAndKeepsNotSupported() {
        assertThat(NvmlReading.of("f", 70_000).map(mw -> mw / 1000.0)).isEqualTo(NvmlReading.of("f", 70.0));
        assertThat(NvmlReading.<Integer>notSupported("f").map(mw -> mw / 1000.0))
                .isEqualTo(NvmlReading.notSupported("f"));
    }

    @Test
    void readingsWithoutAFunctionStillCompareByValue() {
        assertThat(NvmlReading.of(1)).isEqualTo(NvmlReading.of(1)).isNotEqualTo(NvmlReading.of(2));
        assertThat(NvmlReading.of(1).function()).isEmpty();
        assertThat(NvmlReading.of(1)).hasToString("NvmlReading[1]");
    }
}
