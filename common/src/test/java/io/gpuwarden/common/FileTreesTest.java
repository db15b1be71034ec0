package io.gpuwarden.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tree is deleted with everything under it; one already gone is no error. */
class FileTreesTest {
  @TempDir Path tmp;

  @Test
  void deletesTheTreeAndIgnoresOneThatIsGone() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("scratch/a/b"));
    Files.writeString(dir.resolve("f"), "x");
    FileTrees.delete(tmp.resolve("scratch"));
    assertThat(tmp.resolve("scratch")).doesNotExist();
    FileTrees.delete(tmp.resolve("scratch"));
  }
}
