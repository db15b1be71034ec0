package io.gpuwarden.agent.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStateStoreTest {
  @TempDir
  Path dir;

  @Test
  void valuesSurviveReopeningAndPrefixesSelect() {
    FileStateStore s = FileStateStore.open(dir);
    s.put("xid.active/b1/GPU-a/79", "1|2|3");
    s.put("xid.active/b1/GPU-b/48", "4|5|6");
    s.put("other", "x");
    s.flush();
    FileStateStore again = FileStateStore.open(dir);
    assertThat(again.get("other")).contains("x");
    assertThat(again.withPrefix("xid.active/b1/")).containsOnlyKeys("xid.active/b1/GPU-a/79", "xid.active/b1/GPU-b/48");
    again.put("other", null);
    again.flush();
    assertThat(FileStateStore.open(dir).get("other")).isEmpty();
  }

  @Test
  void unwritableDirectoryKeepsStateInMemoryAndReportsIt() throws Exception {
    Path file = dir.resolve("not-a-dir");
    Files.writeString(file, "x");
    FileStateStore s = FileStateStore.open(file);
    assertThat(s.lastError()).isPresent();
    s.put("k", "v");
    s.flush();
    assertThat(s.get("k")).contains("v");
    assertThat(s.lastError()).get().asString().contains("not-a-dir");
  }
}
