package io.gpuwarden.agent;

import io.gpuwarden.common.Version;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the agent found when it started, for its log: one summary line (GPUs, InfiniBand ports, log
 * sources, checks, state, collector) and one line per thing it could not open, with why. Problems
 * are not fatal: the agent runs with what it has and reports the rest to the collector.
 *
 * <pre>{@code
 * StartupReport r = StartupReport.of(config, monitor);
 * log.info(r.summary());
 * r.problems().forEach(log::warning);
 * }</pre>
 *
 * @param summary the one summary line
 * @param problems one line per source that could not be opened, each saying why
 */
public record StartupReport(String summary, List<String> problems) {
  /** Compacts the record. */
  public StartupReport {
    problems = List.copyOf(problems);
  }

  /** Describes what {@code monitor} opened with {@code config}. */
  public static StartupReport of(AgentConfig config, HostMonitor monitor) {
    return of(config, monitor, "");
  }

  /** Builds the report, with {@code spool} describing the uplink's spool (empty: not mentioned). */
  public static StartupReport of(AgentConfig config, HostMonitor monitor, String spool) {
    List<String> problems = problems(config, monitor);
    String gpus = monitor.nvmlFailure().isPresent() ? "no GPUs (NVML unusable)"
        : monitor.inventory().size() + " GPUs (driver " + monitor.driver().getDriverVersion() + ", CUDA "
            + monitor.driver().getCudaDriverVersion() + "), Xid events from " + monitor.xidEventGpus() + " GPUs";
    String summary = "gpuwarden agent " + Version.get() + " node=" + config.nodeId() + " pool=" + config.pool()
        + " boot=" + monitor.bootId() + ": " + gpus
        + "; " + monitor.infinibandInventory().size() + " InfiniBand ports under " + config.sysfsRoot()
        + "; logs " + (monitor.logSources().isEmpty() ? "none" : String.join(", ", monitor.logSources()))
        + "; checks " + monitor.checkNames() + "; state in " + config.stateDir()
        + (spool.isEmpty() ? "" : "; " + spool)
        + "; collector " + config.collectorTarget() + ", every " + config.sampleInterval().toMillis() + "ms"
        + (problems.isEmpty() ? "" : "; " + problems.size() + (problems.size() == 1 ? " problem follows" : " problems follow"));
    return new StartupReport(summary, problems);
  }

  private static List<String> problems(AgentConfig config, HostMonitor monitor) {
    List<String> out = new ArrayList<>();
    monitor.nvmlFailure().ifPresent(why -> out.add("could not open NVML: NVML unusable: " + why + "; retrying every "
        + HostMonitor.NVML_RETRY.toSeconds() + " s"));
    Path ib = config.sysfsRoot().resolve("class/infiniband");
    if (config.checks().infiniband().expectedPorts().isPresent() && !Files.isDirectory(ib)) {
      out.add("could not open InfiniBand: " + ib + " does not exist, but " + config.checks().infiniband().expectedPorts()
          .getAsInt() + " ports are expected");
    }
    monitor.infinibandProblems().forEach(p -> out.add("could not read InfiniBand port " + p));
    List<String> logProblems = monitor.logProblems();
    logProblems.forEach(p -> out.add("could not open log: " + p));
    for (Path syslog : config.logs().syslogFiles()) {
      boolean told = logProblems.stream().anyMatch(p -> p.contains(syslog.toString()));
      if (!told && !Files.isReadable(syslog)) {
        out.add("could not open log: syslog " + syslog + ": " + (Files.exists(syslog) ? "permission denied"
            : "no such file (followed once it appears)"));
      }
    }
    monitor.stateError().ifPresent(e -> out.add("could not open state: " + e));
    return out;
  }
}
