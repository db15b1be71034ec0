package io.gpuwarden.agent.cli;

import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.check.CheckConfig;
import io.gpuwarden.agent.check.CheckConfigFile;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.agent.logs.LogConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.Option;

/** Options shared by the agent daemon and {@code agent check}: where to read the host from, and the checks. */
public final class HostOptions {
  @Option(names = ConfigKeys.CONFIG_OPTION, paramLabel = "FILE",
      description = "YAML file of defaults for every option here: keys are the long option names without '--' "
          + "(node-id: gpu-017), lists or maps for repeatable options; flags on the command line win. "
          + "Sample with every key: packaging/agent.yaml.")
  Path config;

  @Option(names = "--node-id", paramLabel = "ID", description = "Node id (default: the host name).")
  String nodeId;

  @Option(names = "--nvml-lib", paramLabel = "PATH",
      description = "NVML library file to load (default: libnvidia-ml.so.1 from the system library path).")
  Path nvmlLib;

  @Option(names = "--nvml-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Deadline of one GPU's NVML reads; a GPU that misses it is unresponsive (default: 2s).")
  Duration nvmlTimeout = AgentConfig.DEFAULT_NVML_TIMEOUT;

  @Option(names = "--detail-interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often the slow-changing and costly readings are taken: NVLink state and error counters, "
          + "retired pages, PCIe maxima, power limit, ECC and persistence mode, InfiniBand counters; the last "
          + "values are carried forward in between. 0s reads them every interval (default: 10s).")
  Duration detailInterval = AgentConfig.DEFAULT_DETAIL_INTERVAL;

  @Option(names = "--boot-id-file", paramLabel = "PATH", description = "Boot id file (default: ${DEFAULT-VALUE}).")
  Path bootIdFile = HostIdentity.DEFAULT_BOOT_ID_FILE;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Durable agent state: Xid history, first inventory of the boot (default: ${DEFAULT-VALUE}).")
  Path stateDir = AgentConfig.DEFAULT_STATE_DIR;

  @Option(names = "--expected-gpus", paramLabel = "N",
      description = "GPUs this host must have (default: the first inventory seen on this boot).")
  Integer expectedGpus;

  @Option(names = "--disable-check", paramLabel = "NAME", split = ",",
      description = "Health checks not to run; repeatable or comma-separated. Checks: gpu-count, xid, ecc, recovery-action, "
          + "clock-slowdown, pcie, nvlink, fabric, persistence-mode, infiniband-port, infiniband-flap, infiniband-errors, "
          + "kernel-log.")
  List<String> disabledChecks = List.of();

  @Option(names = "--sysfs-root", paramLabel = "DIR",
      description = "sysfs mount; InfiniBand ports are read under DIR/class/infiniband (default: ${DEFAULT-VALUE}).")
  Path sysfsRoot = AgentConfig.DEFAULT_SYSFS_ROOT;

  @Option(names = "--expected-ib-ports", paramLabel = "N",
      description = "InfiniBand ports this host must have; fewer is UNHEALTHY (default: every port seen on this boot "
          + "must stay; one that vanishes is UNHEALTHY).")
  Integer expectedIbPorts;

  @Option(names = "--expected-ib-rate", paramLabel = "GBPS",
      description = "Rate every ACTIVE InfiniBand port must reach, in Gb/s, e.g. 400 for NDR; slower is DEGRADED "
          + "(default: the rate of the fastest port of the same HCA model and link layer).")
  Double expectedIbRate;

  @Option(names = "--kmsg", paramLabel = "PATH",
      description = "Kernel log: /dev/kmsg, or a regular file in its record format; 'none' to not read it "
          + "(default: /dev/kmsg).")
  String kmsg = LogConfig.DEV_KMSG.toString();

  @Option(names = "--syslog", paramLabel = "PATH",
      description = "Syslog or kern.log file to follow across rotation; repeatable. Kernel lines in it are classified "
          + "only when the kernel log itself cannot be read.")
  List<Path> syslog = List.of();

  @Option(names = "--classifier-rules", paramLabel = "FILE",
      description = "Operator kernel-log classifier rules, tried before the built-in ones (format: agent/CHECKS.md).")
  Path classifierRules;

  @Option(names = "--forward-log-priority", paramLabel = "LEVEL",
      description = "Forward raw log lines at this syslog level or more severe: 0-7 or emerg, alert, crit, err, "
          + "warning, notice, info, debug; 'none' forwards nothing (default: warning).")
  String forwardLogPriority = "warning";

  @Option(names = "--forward-log-rate", paramLabel = "LINES_PER_SECOND",
      description = "Most raw log lines forwarded per second; lines over it are dropped and counted (default: 50).")
  double forwardLogRate = 50;

  @Option(names = "--forward-log-burst", paramLabel = "LINES",
      description = "Lines that may be forwarded at once above the rate (default: 500).")
  int forwardLogBurst = 500;

  @Option(names = "--kernel-log-lookback", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "agent check: judge only the kernel log of this last stretch (default: the whole current boot).")
  Duration kernelLogLookback;

  @Option(names = "--check-config", paramLabel = "FILE",
      description = "Properties file with check thresholds and Xid policy overrides (see agent/CHECKS.md).")
  Path checkConfig;

  /**
   * Applies these options to {@code builder}; flags win over the check config file.
   *
   * @throws IllegalArgumentException when the check config file is unreadable or wrong
   */
  public AgentConfig.Builder apply(AgentConfig.Builder builder) {
    CheckConfigFile.Loaded loaded = checkConfig != null
        ? CheckConfigFile.load(checkConfig) : new CheckConfigFile.Loaded(CheckConfig.defaults(), XidPolicy.defaults());
    CheckConfig checks = loaded.checks();
    if (!disabledChecks.isEmpty()) {
      Set<String> disabled = new LinkedHashSet<>(checks.disabled());
      disabled.addAll(disabledChecks);
      checks = checks.withDisabled(disabled);
    }
    builder.xidPolicy(loaded.xidPolicy());
    if (expectedGpus != null) {
      checks = checks.withExpectedGpus(expectedGpus);
    }
    if (expectedIbPorts != null) {
      checks = checks.withInfiniband(checks.infiniband().withExpectedPorts(expectedIbPorts));
    }
    if (expectedIbRate != null) {
      checks = checks.withInfiniband(checks.infiniband().withExpectedRateGbps(expectedIbRate));
    }
    LogConfig logs = LogConfig.defaults()
        .withKmsg(kmsg.equals("none") || kmsg.isEmpty() ? Optional.empty() : Optional.of(Path.of(kmsg)))
        .withSyslogFiles(syslog)
        .withRulesFile(Optional.ofNullable(classifierRules))
        .withForwarding(priority(forwardLogPriority), forwardLogRate, forwardLogBurst)
        .withCheckLookback(Optional.ofNullable(kernelLogLookback));
    return builder.nodeId(nodeId).nvmlLibrary(nvmlLib).nvmlTimeout(nvmlTimeout).detailInterval(detailInterval)
        .bootIdFile(bootIdFile)
        .stateDir(stateDir).checks(checks).sysfsRoot(sysfsRoot).logs(logs);
  }

  private static final List<String> LEVELS = List.of("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug");

  /** Parses a syslog level by number or name; "none" is -1 (nothing qualifies). */
  static int priority(String level) {
    String l = level.trim().toLowerCase(java.util.Locale.ROOT);
    if (l.equals("none")) {
      return -1;
    }
    if (l.matches("[0-7]")) {
      return Integer.parseInt(l);
    }
    int i = LEVELS.indexOf(l.equals("error") ? "err" : l.equals("warn") ? "warning" : l.equals("critical") ? "crit" : l);
    if (i < 0) {
      throw new IllegalArgumentException("--forward-log-priority '" + level + "': expected 0-7, none, or one of " + LEVELS);
    }
    return i;
  }
}
