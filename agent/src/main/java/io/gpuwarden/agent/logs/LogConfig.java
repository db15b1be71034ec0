package io.gpuwarden.agent.logs;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where the agent reads kernel and system logs from and how much of them it forwards, an immutable
 * value. Start from {@link #defaults()}.
 *
 * <p>Defaults and why:
 * <ul>
 *   <li>{@code kmsg} {@code /dev/kmsg}: the kernel ring buffer has every NVIDIA, AER, MCE and mlx5
 *       line with its priority and sequence number, without depending on a syslog daemon.
 *   <li>{@code syslogFiles} none: for hosts where {@code /dev/kmsg} is not readable, or to forward
 *       other programs' lines. When {@code /dev/kmsg} is read too, kernel lines from these files
 *       are forwarded but not classified again, so one fault is not counted twice.
 *   <li>{@code forwardMaxPriority} 4 (warning): lines at warning, error, crit, alert and emerg are
 *       forwarded raw; info and debug stay on the host. A line a classifier rule matched is
 *       forwarded at the rule's severity when that is more severe than its own priority.
 *   <li>{@code forwardLinesPerSecond} 50, {@code forwardBurst} 500: a host logging normally sends a
 *       handful of warnings a minute; a flood (a driver spamming the log) costs the collector at
 *       most 50 lines a second per host, and every line not sent is counted in the batch.
 *   <li>{@code queueCapacity} 4096: records held between the reader thread and the sampling cycle;
 *       in a flood the oldest ordinary lines are dropped (counted), lines a rule matches are kept
 *       in their own queue.
 *   <li>{@code checkLookback} empty: {@code agent check} judges the kernel log from the start of
 *       the current boot.
 * </ul>
 *
 * @param kmsg the kernel log device (or a regular file in its record format); empty: not read
 * @param syslogFiles syslog or kern.log files to follow across rotation
 * @param rulesFile operator classifier rules tried before the built-in ones; empty: built-ins only
 * @param forwardMaxPriority lines at this syslog priority or more severe (lower) are forwarded, 0..7
 * @param forwardLinesPerSecond forwarded lines per second, sustained
 * @param forwardBurst forwarded lines allowed at once above the sustained rate
 * @param queueCapacity records held per source between its reader and the sampling cycle
 * @param checkLookback how far back {@code agent check} looks; empty: the whole current boot
 */
public record LogConfig(
    Optional<Path> kmsg,
    List<Path> syslogFiles,
    Optional<Path> rulesFile,
    int forwardMaxPriority,
    double forwardLinesPerSecond,
    int forwardBurst,
    int queueCapacity,
    Optional<Duration> checkLookback) {

  /** The kernel log device. */
  public static final Path DEV_KMSG = Path.of("/dev/kmsg");

  /** Validates and copies. */
  public LogConfig {
    requireNonNull(kmsg, "kmsg");
    syslogFiles = List.copyOf(requireNonNull(syslogFiles, "syslogFiles"));
    requireNonNull(rulesFile, "rulesFile");
    requireNonNull(checkLookback, "checkLookback");
    if (forwardMaxPriority < -1 || forwardMaxPriority > 7) {
      throw new IllegalArgumentException("forwarded log priority must be 0 (emerg) to 7 (debug), or -1 for none; got "
          + forwardMaxPriority);
    }
    if (!(forwardLinesPerSecond >= 0) || forwardBurst < 0) {
      throw new IllegalArgumentException("log forwarding rate and burst must be >= 0, got " + forwardLinesPerSecond + "/s and "
          + forwardBurst);
    }
    if (queueCapacity < 16) {
      throw new IllegalArgumentException("log queue capacity must be at least 16, got " + queueCapacity);
    }
    if (checkLookback.isPresent() && (checkLookback.get().isNegative() || checkLookback.get().isZero())) {
      throw new IllegalArgumentException("kernel log look-back must be positive, got " + checkLookback.get());
    }
  }

  /** Returns the documented defaults. */
  public static LogConfig defaults() {
    return new LogConfig(Optional.of(DEV_KMSG), List.of(), Optional.empty(), 4, 50, 500, 4096, Optional.empty());
  }

  /** Returns a configuration that reads no logs at all. */
  public static LogConfig none() {
    return defaults().withKmsg(Optional.empty());
  }

  /** Returns a copy reading the kernel log from {@code path}, or not at all. */
  public LogConfig withKmsg(Optional<Path> path) {
    return new LogConfig(path, syslogFiles, rulesFile, forwardMaxPriority, forwardLinesPerSecond, forwardBurst,
        queueCapacity, checkLookback);
  }

  /** Returns a copy following these syslog files. */
  public LogConfig withSyslogFiles(List<Path> files) {
    return new LogConfig(kmsg, files, rulesFile, forwardMaxPriority, forwardLinesPerSecond, forwardBurst, queueCapacity,
        checkLookback);
  }

  /** Returns a copy with operator rules from {@code file}. */
  public LogConfig withRulesFile(Optional<Path> file) {
    return new LogConfig(kmsg, syslogFiles, file, forwardMaxPriority, forwardLinesPerSecond, forwardBurst, queueCapacity,
        checkLookback);
  }

  /** Returns a copy forwarding lines at {@code maxPriority} or more severe, at most {@code perSecond} (burst {@code burst}). */
  public LogConfig withForwarding(int maxPriority, double perSecond, int burst) {
    return new LogConfig(kmsg, syslogFiles, rulesFile, maxPriority, perSecond, burst, queueCapacity, checkLookback);
  }

  /** Returns a copy whose reader queues hold {@code capacity} records. */
  public LogConfig withQueueCapacity(int capacity) {
    return new LogConfig(kmsg, syslogFiles, rulesFile, forwardMaxPriority, forwardLinesPerSecond, forwardBurst, capacity,
        checkLookback);
  }

  /** Returns a copy whose {@code agent check} looks back {@code lookback} only. */
  public LogConfig withCheckLookback(Optional<Duration> lookback) {
    return new LogConfig(kmsg, syslogFiles, rulesFile, forwardMaxPriority, forwardLinesPerSecond, forwardBurst,
        queueCapacity, lookback);
  }
}
