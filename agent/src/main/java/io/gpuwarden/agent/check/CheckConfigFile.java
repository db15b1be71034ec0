package io.gpuwarden.agent.check;

import io.gpuwarden.agent.check.infiniband.InfinibandCheckConfig;

import io.gpuwarden.agent.check.xid.XidClearing;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.check.xid.XidRule;
import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads check thresholds and Xid policy overrides from a properties file ({@code --check-config}).
 * Every key is optional; an unset key keeps its default (see {@code agent/CHECKS.md}). Unknown keys
 * and bad values are refused with the key and the value named, so a typo never silently keeps a
 * default.
 *
 * <pre>
 * expected-gpus = 8
 * disabled = persistence-mode
 * xid.escalate-after-boots = 3
 * xid.flood-window = 1m
 * xid.ignore = 43, 45
 * xid.13 = DEGRADED, RESET_GPU, GPU_RESET
 * ecc.retired-pages-limit = 63
 * ecc.retired-pages-dbe-limit = 15
 * clock-slowdown.window = 1m
 * clock-slowdown.fraction = 0.5
 * pcie.replays-per-minute = 8
 * nvlink.replay-recovery-per-minute = 1
 * nvlink.crc-per-second = 100
 * fabric.probe-grace = 5m
 * persistence-mode.off-state = DEGRADED
 * infiniband.expected-ports = 8
 * infiniband.expected-rate-gbps = 400
 * infiniband.flap-window = 10m
 * infiniband.flaps-for-degraded = 1
 * infiniband.flaps-for-unhealthy = 3
 * infiniband.flap-sticky = 30m
 * infiniband.error-window = 1h
 * infiniband.error-limit.symbol_error = 10
 * kernel-log.error-hold = 1h
 * </pre>
 */
public final class CheckConfigFile {
  private static final Set<String> KEYS = Set.of("expected-gpus", "disabled", "xid.escalate-after-boots", "xid.flood-window",
      "xid.ignore", "ecc.retired-pages-limit", "ecc.retired-pages-dbe-limit", "clock-slowdown.window",
      "clock-slowdown.fraction", "pcie.replays-per-minute", "nvlink.replay-recovery-per-minute", "nvlink.crc-per-second",
      "fabric.probe-grace", "persistence-mode.off-state", "infiniband.expected-ports", "infiniband.expected-rate-gbps",
      "infiniband.flap-window", "infiniband.flaps-for-degraded", "infiniband.flaps-for-unhealthy", "infiniband.flap-sticky",
      "infiniband.error-window", "kernel-log.error-hold");
  private static final String ERROR_LIMIT = "infiniband.error-limit.";

  /** The two things the file configures. */
  public record Loaded(CheckConfig checks, XidPolicy xidPolicy) {}

  private CheckConfigFile() {}

  /**
   * Loads {@code file} over the defaults.
   *
   * @throws IllegalArgumentException naming the file, the key and the value that is wrong
   */
  public static Loaded load(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read check config " + file + ": " + e.getMessage(), e);
    }
    return parse(p, file.toString());
  }

  /** Parses already-loaded properties; {@code source} names them in errors. */
  public static Loaded parse(Properties p, String source) {
    CheckConfig d = CheckConfig.defaults();
    XidPolicy policy = XidPolicy.defaults();
    for (String key : new TreeSet<>(p.stringPropertyNames())) {
      if (!KEYS.contains(key) && !key.matches("xid\\.\\d+") && !key.startsWith(ERROR_LIMIT)) {
        throw new IllegalArgumentException(source + ": unknown key '" + key + "'; known keys: " + new TreeSet<>(KEYS)
            + ", xid.<number> and " + ERROR_LIMIT + "<counter>");
      }
    }
    try {
      OptionalInt expected = p.containsKey("expected-gpus")
          ? OptionalInt.of(Integer.parseInt(p.getProperty("expected-gpus").trim())) : OptionalInt.empty();
      Set<String> disabled = new HashSet<>(list(p.getProperty("disabled", "")));
      Set<Integer> ignored = new HashSet<>();
      for (String x : list(p.getProperty("xid.ignore", ""))) {
        ignored.add(Integer.parseInt(x));
      }
      for (String key : p.stringPropertyNames()) {
        if (key.matches("xid\\.\\d+")) {
          policy = policy.with(rule(Integer.parseInt(key.substring(4)), p.getProperty(key), policy));
        }
      }
      CheckConfig config = new CheckConfig(disabled, expected,
          integer(p, "xid.escalate-after-boots", d.xidEscalateAfterBoots()),
          duration(p, "xid.flood-window", d.xidFloodWindow()),
          integer(p, "ecc.retired-pages-limit", (int) d.retiredPagesLimit()),
          integer(p, "ecc.retired-pages-dbe-limit", (int) d.retiredPagesDbeLimit()),
          duration(p, "clock-slowdown.window", d.slowdownWindow()),
          number(p, "clock-slowdown.fraction", d.slowdownFraction()),
          number(p, "pcie.replays-per-minute", d.pcieReplaysPerMinute()),
          number(p, "nvlink.replay-recovery-per-minute", d.nvlinkReplayRecoveryPerMinute()),
          number(p, "nvlink.crc-per-second", d.nvlinkCrcPerSecond()),
          duration(p, "fabric.probe-grace", d.fabricProbeGrace()),
          p.containsKey("persistence-mode.off-state") ? state(p.getProperty("persistence-mode.off-state")) : d.persistenceOffState(),
          infiniband(p, d.infiniband()),
          duration(p, "kernel-log.error-hold", d.kernelErrorHold()));
      return new Loaded(config, policy.ignoring(ignored));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static InfinibandCheckConfig infiniband(Properties p, InfinibandCheckConfig d) {
    java.util.Map<String, Long> limits = new java.util.HashMap<>(d.errorLimits());
    for (String key : p.stringPropertyNames()) {
      if (key.startsWith(ERROR_LIMIT)) {
        limits.put(key.substring(ERROR_LIMIT.length()), (long) integer(p, key, 0));
      }
    }
    return new InfinibandCheckConfig(
        p.containsKey("infiniband.expected-ports")
            ? OptionalInt.of(integer(p, "infiniband.expected-ports", 0)) : d.expectedPorts(),
        p.containsKey("infiniband.expected-rate-gbps")
            ? java.util.OptionalDouble.of(number(p, "infiniband.expected-rate-gbps", 0)) : d.expectedRateGbps(),
        duration(p, "infiniband.flap-window", d.flapWindow()),
        integer(p, "infiniband.flaps-for-degraded", d.flapsForDegraded()),
        integer(p, "infiniband.flaps-for-unhealthy", d.flapsForUnhealthy()),
        duration(p, "infiniband.flap-sticky", d.flapStickyPeriod()),
        duration(p, "infiniband.error-window", d.errorWindow()),
        limits);
  }

  private static XidRule rule(int xid, String value, XidPolicy current) {
    String[] parts = value.split(",");
    if (parts.length != 3) {
      throw new IllegalArgumentException("xid." + xid + " = '" + value + "': expected STATE, ACTION, CLEARING "
          + "(e.g. DEGRADED, RESET_GPU, GPU_RESET)");
    }
    HealthState state = state(parts[0]);
    SuggestedAction action = SuggestedAction.valueOf("SUGGESTED_ACTION_" + parts[1].trim().toUpperCase(Locale.ROOT));
    XidClearing clearing = XidClearing.valueOf(parts[2].trim().toUpperCase(Locale.ROOT));
    return new XidRule(xid, current.rule(xid).mnemonic(), state, action, clearing);
  }

  private static HealthState state(String s) {
    return HealthState.valueOf("HEALTH_STATE_" + s.trim().toUpperCase(Locale.ROOT));
  }

  private static java.util.List<String> list(String s) {
    return java.util.Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
  }

  private static int integer(Properties p, String key, int dflt) {
    String v = p.getProperty(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " = '" + v + "' is not an integer");
    }
  }

  private static double number(Properties p, String key, double dflt) {
    String v = p.getProperty(key);
    if (v == null) {
      return dflt;
    }
    try {
      return Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " = '" + v + "' is not a number");
    }
  }

  private static Duration duration(Properties p, String key, Duration dflt) {
    String v = p.getProperty(key);
    return v == null ? dflt : DurationConverter.parse(v);
  }
}
