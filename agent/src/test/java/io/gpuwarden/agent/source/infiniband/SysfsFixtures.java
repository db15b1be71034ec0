package io.gpuwarden.agent.source.infiniband;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The sysfs fixture trees (real layout, symlinked class entries) and writable copies of them. */
public final class SysfsFixtures {
  private SysfsFixtures() {}

  /** Returns fixture tree {@code name}, e.g. {@code "healthy-8x-ndr"}. */
  public static Path fixture(String name) {
    return Path.of(System.getProperty("gpuwarden.fixtures", "src/test/fixtures"), "sysfs", name);
  }

  /** Copies fixture tree {@code name} into {@code dir}, keeping symlinks as symlinks; returns the copy's root. */
  public static Path copy(String name, Path dir) {
    Path from = fixture(name);
    Path to = dir.resolve(name);
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isSymbolicLink(p)) {
          Files.createSymbolicLink(target, Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to;
  }

  /** Returns port 1 of {@code hca} under {@code root}, through its class entry. */
  public static Path port(Path root, String hca) {
    return root.resolve("class/infiniband").resolve(hca).resolve("ports/1");
  }

  /** Writes {@code value} into counter file {@code counter} of port 1 of {@code hca}. */
  public static void writeCounter(Path root, String hca, String counter, long value) {
    try {
      Files.writeString(port(root, hca).resolve("counters").resolve(counter), value + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
