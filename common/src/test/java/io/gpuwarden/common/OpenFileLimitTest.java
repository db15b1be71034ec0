package io.gpuwarden.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The soft limit is read from the real /proc/PID/limits layout; unlimited, missing or odd files give none. */
class OpenFileLimitTest {
  @TempDir Path tmp;

  @Test
  void theSoftLimitIsReadFromProcLimits() throws Exception {
    Path limits = tmp.resolve("limits");
    Files.writeString(limits, "Limit                     Soft Limit           Hard Limit           Units     \n"
        + "Max processes             95107                95107                processes \n"
        + "Max open files            20000                524288               files     \n");
    assertThat(OpenFileLimit.read(limits)).hasValue(20_000);
    Files.writeString(limits, "Max open files            unlimited            unlimited            files     \n");
    assertThat(OpenFileLimit.read(limits)).isEmpty();
    Files.writeString(limits, "Max open files            lots                 lots                 files     \n");
    assertThat(OpenFileLimit.read(limits)).isEmpty();
    assertThat(OpenFileLimit.read(tmp.resolve("missing"))).isEmpty();
  }
}
