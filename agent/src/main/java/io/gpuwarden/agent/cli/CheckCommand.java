package io.gpuwarden.agent.cli;

import io.gpuwarden.common.cli.DurationConverter;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.check.CheckRunner;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.HostCheckReport;
import io.gpuwarden.proto.v1.Reason;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code gpuwarden agent check}: every health check once, no collector; Nagios exit codes. */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        "Runs every health check once on this host and prints the result, without a collector.",
        "Use it as Slurm's HealthCheckProgram, in a prolog, or from any script; the exit code says the state.",
        "The kernel log is judged from the start of the current boot (or --kernel-log-lookback), so a fault logged",
        "before the check is caught. InfiniBand link flaps and error rates need two samples; a one-shot check judges",
        "port state, port count and rate only.",
        "It reads what the running agent recorded in --state-dir (Xids that still need a reset or reboot, the first",
        "GPU and InfiniBand inventory of this boot) and changes nothing there: a check run on a sample --kmsg file or",
        "another --nvml-lib leaves the next check of the real host as it was."},
    exitCodeListHeading = "%nExit codes (Nagios convention):%n",
    exitCodeList = {"0:healthy", "1:degraded", "2:unhealthy", "3:unknown, or could not check within --timeout"})
public final class CheckCommand implements Callable<Integer> {
  @Mixin
  HostOptions host;

  @Option(names = "--json", description = "Print a HostCheckReport as JSON (proto3 JSON mapping).")
  boolean json;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Give up and exit 3 after this long (default: 10s).")
  Duration timeout = Duration.ofSeconds(10);

  @Spec
  CommandSpec spec;

  /** Longest wait for the kernel log logged so far to be read. */
  private static final Duration KERNEL_LOG_READ_LIMIT = Duration.ofSeconds(5);

  @Override
  public Integer call() throws InvalidProtocolBufferException, InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    AgentConfig config;
    try {
      config = host.apply(AgentConfig.builder()).build();
    } catch (IllegalArgumentException e) {
      err.println("gpuwarden agent check: " + e.getMessage());
      err.flush();
      return 3;
    }
    Instant start = Instant.now();
    FutureTask<HostCheckReport> task = new FutureTask<>(() -> run(config, start, err));
    Thread t = new Thread(task, "gpuwarden-check");
    t.setDaemon(true);
    t.start();
    HostCheckReport report;
    try {
      report = task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      err.printf(Locale.ROOT, "gpuwarden agent check: could not check within %d ms%n", timeout.toMillis());
      err.flush();
      return 3;
    } catch (ExecutionException e) {
      err.println("gpuwarden agent check: " + e.getCause().getMessage());
      err.flush();
      return 3;
    }
    if (json) {
      out.println(JsonFormat.printer().print(report));
    } else {
      out.print(render(report));
    }
    out.flush();
    return exitCode(report.getState());
  }

  private static HostCheckReport run(AgentConfig config, Instant start, PrintWriter err) throws InterruptedException {
    try (HostMonitor monitor = HostMonitor.openOneShot(config, Clock.systemUTC())) {
      monitor.stateError().ifPresent(e -> {
        err.println("gpuwarden agent check: " + e + "; judging without the running agent's state");
        err.flush();
      });
      monitor.awaitLogsRead(KERNEL_LOG_READ_LIMIT);
      HostMonitor.Cycle cycle = monitor.cycle();
      return HostCheckReport.newBuilder()
          .setNodeId(config.nodeId())
          .setBootId(monitor.bootId())
          .setState(CheckRunner.overall(cycle.results()))
          .addAllResults(cycle.results())
          .setTime(ProtoTime.of(cycle.snapshot().time()))
          .setDurationMillis(Duration.between(start, Instant.now()).toMillis())
          .build();
    }
  }

  /** Maps a state to the Nagios exit code. */
  public static int exitCode(HealthState state) {
    return switch (state) {
      case HEALTH_STATE_HEALTHY -> 0;
      case HEALTH_STATE_DEGRADED -> 1;
      case HEALTH_STATE_UNHEALTHY -> 2;
      default -> 3;
    };
  }

  /** Renders the report for people: one line per check, then one per reason. */
  static String render(HostCheckReport r) {
    StringBuilder s = new StringBuilder();
    for (CheckResult c : r.getResultsList()) {
      s.append(String.format(Locale.ROOT, "%-18s %s%n", c.getCheck(), word(c.getState())));
      for (Reason reason : c.getReasonsList()) {
        s.append(String.format(Locale.ROOT, "  - %s: %s -> %s%n", word(reason.getState()), reason.getMessage(),
            reason.getAction().name().replace("SUGGESTED_ACTION_", "").toLowerCase(Locale.ROOT).replace('_', ' ')));
      }
    }
    s.append(String.format(Locale.ROOT, "%nnode %s: %s (%d checks in %d ms)%n", r.getNodeId(), word(r.getState()),
        r.getResultsCount(), r.getDurationMillis()));
    return s.toString();
  }

  private static String word(HealthState s) {
    return s.name().replace("HEALTH_STATE_", "");
  }
}
