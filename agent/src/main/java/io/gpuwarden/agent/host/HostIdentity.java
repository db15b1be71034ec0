package io.gpuwarden.agent.host;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads who this host is: its name and its Linux boot id.
 *
 * <p>The boot id ({@code /proc/sys/kernel/random/boot_id}) changes on every reboot; the collector
 * uses it to tell that a node really rebooted during maintenance.
 */
public final class HostIdentity {
  /** Where Linux publishes the boot id. */
  public static final Path DEFAULT_BOOT_ID_FILE = Path.of("/proc/sys/kernel/random/boot_id");

  /** Where Linux publishes the boot time ({@code btime}, seconds since the epoch). */
  public static final Path PROC_STAT = Path.of("/proc/stat");

  private static final Path KERNEL_HOSTNAME = Path.of("/proc/sys/kernel/hostname");

  private HostIdentity() {}

  /** Returns the host name: the kernel's, else the environment's, else the resolver's. */
  public static String hostname() {
    try {
      String name = Files.readString(KERNEL_HOSTNAME, StandardCharsets.US_ASCII).trim();
      if (!name.isEmpty()) {
        return name;
      }
    } catch (IOException e) {
      // not Linux, or /proc not mounted: fall through
    }
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      throw new IllegalStateException("cannot determine the host name; pass --node-id", e);
    }
  }

  /**
   * Reads the boot id from {@code file}.
   *
   * @throws IllegalStateException naming the file when it cannot be read or is empty
   */
  public static String bootId(Path file) {
    try {
      String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
      if (id.isEmpty()) {
        throw new IllegalStateException("boot id file " + file + " is empty");
      }
      return id;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read boot id from " + file + ": " + e, e);
    }
  }

  /**
   * Returns when this machine booted: {@code btime} of {@code procStat} (whole seconds, as Linux
   * keeps it), or {@code fallback} when the file is missing or has no {@code btime} line. Kernel
   * log timestamps are microseconds since boot; this turns them into wall time.
   */
  public static java.time.Instant bootTime(Path procStat, java.time.Instant fallback) {
    try {
      for (String line : Files.readAllLines(procStat, StandardCharsets.US_ASCII)) {
        if (line.startsWith("btime ")) {
          return java.time.Instant.ofEpochSecond(Long.parseLong(line.substring(6).trim()));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // fall through
    }
    return fallback;
  }
}
