package io.gpuwarden.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The soft limit of open files of a process (one per gRPC connection, so the most agents a collector
 * can serve and a load generator can simulate), as Linux states it in {@code /proc/PID/limits}:
 *
 * <pre>
 * Limit                     Soft Limit           Hard Limit           Units
 * Max open files            20000                20000                files
 * </pre>
 */
public final class OpenFileLimit {
  /** This process's limits file. */
  public static final Path SELF = Path.of("/proc/self/limits");

  private OpenFileLimit() {}

  /** Returns this process's soft limit, if the system states one (empty when unlimited, or not Linux). */
  public static OptionalLong ofThisProcess() {
    return read(SELF);
  }

  /** Returns the soft limit of open files in {@code limits}, empty when it is unlimited, missing or unreadable. */
  public static OptionalLong read(Path limits) {
    try {
      for (String line : Files.readAllLines(limits)) {
        if (line.startsWith("Max open files")) {
          String[] f = line.substring("Max open files".length()).trim().split("\\s+");
          return f[0].equals("unlimited") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(f[0]));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or unreadable: nothing to say
    }
    return OptionalLong.empty();
  }
}
