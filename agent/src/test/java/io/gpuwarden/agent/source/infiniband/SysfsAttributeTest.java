package io.gpuwarden.agent.source.infiniband;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SysfsAttributeTest {
  @TempDir
  Path dir;

  @Test
  void readsAnAttributeWhole() throws Exception {
    Path f = Files.writeString(dir.resolve("rate"), "400 Gb/sec (4X NDR)\n");
    assertThat(SysfsAttribute.read(f)).isEqualTo("400 Gb/sec (4X NDR)\n");
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4095, 4096, 4097, 8192, 10_000})
  void readsFilesOfEverySizeAroundThePageWhole(int size) throws Exception {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < size; i++) {
      text.append((char) ('a' + i % 26));
    }
    Path f = Files.writeString(dir.resolve("attr"), text);
    assertThat(SysfsAttribute.read(f)).isEqualTo(text.toString());
  }

  @Test
  void aRewrittenFileIsReadAnew() throws Exception {
    Path f = Files.writeString(dir.resolve("state"), "4: ACTIVE\n");
    assertThat(SysfsAttribute.read(f)).isEqualTo("4: ACTIVE\n");
    Files.writeString(f, "1: DOWN\n");
    assertThat(SysfsAttribute.read(f)).isEqualTo("1: DOWN\n");
  }

  @Test
  void aMissingFileThrowsNamingIt() {
    Path missing = dir.resolve("phys_state");
    assertThatThrownBy(() -> SysfsAttribute.read(missing)).isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining("phys_state");
  }
}
