package io.gpuwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ByteSizeConverterTest {
  @Test
  void acceptsBinaryUnitsWithOrWithoutIbInAnyCase() {
    assertThat(ByteSizeConverter.parse("1048576")).isEqualTo(1L << 20);
    assertThat(ByteSizeConverter.parse("512K")).isEqualTo(512L << 10);
    assertThat(ByteSizeConverter.parse("256MiB")).isEqualTo(256L << 20);
    assertThat(ByteSizeConverter.parse("256mb")).isEqualTo(256L << 20);
    assertThat(ByteSizeConverter.parse("1.5G")).isEqualTo(3L << 29);
    assertThat(ByteSizeConverter.parse(" 2 GiB ")).isEqualTo(2L << 30);
  }

  @Test
  void refusesGarbageNamingTheAcceptedForms() {
    assertThatThrownBy(() -> ByteSizeConverter.parse("lots")).hasMessageContaining("'lots'").hasMessageContaining("256MiB");
  }
}
