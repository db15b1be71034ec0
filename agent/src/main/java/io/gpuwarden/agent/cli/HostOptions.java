package io.gpuwarden.agent.cli;

import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.check.CheckConfig;
import io.gpuwarden.agent.check.CheckConfigFile;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.host.HostIdentity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/** Options shared by the agent daemon and {@code agent check}: where to read the host from, and the checks. */
public final class HostOptions {
  @Option(names = "--node-id", paramLabel = "ID", description = "Node id (default: the host name).")
  String nodeId;

  @Option(names = "--nvml-lib", paramLabel = "PATH",
      description = "NVML library file to load (default: libnvidia-ml.so.1 from the system library path).")
  Path nvmlLib;

  @Option(names = "--nvml-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Deadline of one GPU's NVML reads; a GPU that misses it is unresponsive (default: 2s).")
  Duration nvmlTimeout = AgentConfig.DEFAULT_NVML_TIMEOUT;

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
          + "clock-slowdown, pcie, nvlink, fabric, persistence-mode.")
  List<String> disabledChecks = List.of();

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
    return builder.nodeId(nodeId).nvmlLibrary(nvmlLib).nvmlTimeout(nvmlTimeout).bootIdFile(bootIdFile)
        .stateDir(stateDir).checks(checks);
  }
}
