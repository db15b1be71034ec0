package io.gpuwarden.agent;

import io.gpuwarden.common.Logging;
import io.gpuwarden.agent.cli.ByteSizeConverter;
import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.agent.cli.CheckCommand;
import io.gpuwarden.agent.cli.HostOptions;
import io.gpuwarden.common.cli.TlsOptions;
import io.gpuwarden.agent.cli.YamlConfigDefaults;
import io.gpuwarden.agent.tls.UplinkSecurity;
import io.gpuwarden.agent.uplink.SpoolConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Command line of the agent: {@code gpuwarden agent [options]}. */
@Command(
    name = "gpuwarden agent",
    mixinStandardHelpOptions = true,
    versionProvider = AgentMain.VersionProvider.class,
    sortOptions = false,
    description = {
        "Samples this host's GPUs through NVML and streams the telemetry to a gpuwarden collector.",
        "Runs until SIGTERM/SIGINT; on shutdown it waits up to 5 s for the collector to acknowledge what it sampled,",
        "then writes what is still unacknowledged to the spool directory; the next start replays it."},
    exitCodeListHeading = "%nExit codes:%n",
    subcommands = {CheckCommand.class},
    exitCodeList = {
        "0:stopped cleanly (also 143 after SIGTERM, the JVM's convention)",
        "1:could not start (boot id, TLS or token file unusable); NVML failing is reported and retried, not fatal",
        "2:invalid command line"})
public final class AgentMain implements Callable<Integer> {
  static {
    // Before the first Logger below: the log manager is chosen when logging first initialises.
    Logging.configure();
  }

  private static final Logger log = Logger.getLogger(AgentMain.class.getName());

  @Mixin
  HostOptions host;

  @Mixin
  TlsOptions tls;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "File whose first line is this node's bearer token, for a collector started with --agent-tokens.")
  Path tokenFile;

  @Option(names = "--collector", paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Collector address; several, comma-separated, are tried in order and the agent fails over to the next "
          + "while one is down (default: ${DEFAULT-VALUE}).")
  String collector = AgentConfig.DEFAULT_COLLECTOR_TARGET;

  @Option(names = "--pool", paramLabel = "NAME", description = "Pool of this node (default: ${DEFAULT-VALUE}).")
  String pool = AgentConfig.DEFAULT_POOL;

  @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name.")
  String cluster = "";

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label for this node; repeatable.")
  Map<String, String> labels = Map.of();

  @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Sampling interval, e.g. 1s, 500ms (default: 1s).")
  Duration interval = AgentConfig.DEFAULT_SAMPLE_INTERVAL;

  @Option(names = "--send-interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How often batches go to the collector; those sampled in between go together with the next send. "
          + "A batch with an event or a check whose state changed goes at once. Never more than half the "
          + "collector's --stale-after. 0s sends every batch at once (default: 5s).")
  Duration sendInterval = AgentConfig.DEFAULT_SEND_INTERVAL;

  @Option(names = "--spool-dir", paramLabel = "DIR",
      description = "Where unacknowledged batches overflow to and survive restarts (default: STATE_DIR/spool). "
          + "If it cannot be written the agent keeps them in memory only and says so.")
  Path spoolDir;

  @Option(names = "--spool-cap", paramLabel = "SIZE", converter = ByteSizeConverter.class,
      description = "Most disk space the spool may take, e.g. 256MiB, 1G (default: 256MiB). When full, samples and "
          + "log lines of the oldest batches are dropped first, then whole oldest batches; every drop is counted and "
          + "reported to the collector.")
  Long spoolCap;

  @Option(names = "--spool-memory-batches", paramLabel = "N",
      description = "Newest unacknowledged batches kept in memory before they go to disk (default: 600).")
  Integer spoolMemoryBatches;

  @Option(names = "--reconnect-initial", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "First wait before reconnecting to the collector; doubles after each failure, with full jitter "
          + "(default: 200ms).")
  Duration reconnectInitial = AgentConfig.DEFAULT_RECONNECT_INITIAL_BACKOFF;

  @Option(names = "--reconnect-max", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Cap of the reconnect wait (default: 30s).")
  Duration reconnectMax = AgentConfig.DEFAULT_RECONNECT_MAX_BACKOFF;

  @Option(names = "--parent-pid", paramLabel = "PID",
      description = "Exit when this process exits (used by the demo so no agent outlives it).")
  Long parentPid;

  /** Runs the agent command line; exits the JVM with the command's exit code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Returns the picocli command line, for embedding and tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new AgentMain()).setCaseInsensitiveEnumValuesAllowed(true)
        .setDefaultValueProvider(new YamlConfigDefaults());
  }

  @Override
  public Integer call() throws InterruptedException {
    AgentConfig config;
    try {
      config = host.apply(AgentConfig.builder())
          .pool(pool)
          .cluster(cluster)
          .labels(labels)
          .collectorTarget(collector)
          .sampleInterval(interval)
          .sendInterval(sendInterval)
          .reconnectBackoff(reconnectInitial, reconnectMax)
          .spool(spool())
          .security(new UplinkSecurity(tls.clientTls(Optional.empty()), Optional.ofNullable(tokenFile)))
          .build();
    } catch (IllegalArgumentException e) {
      System.err.println("gpuwarden agent: " + e.getMessage());
      return 2;
    }
    Agent agent;
    try {
      agent = Agent.start(config);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("gpuwarden agent: cannot start: " + e.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      stopped.countDown();
    }, "gpuwarden-shutdown"));
    if (parentPid != null) {
      ProcessHandle.of(parentPid).ifPresentOrElse(
          parent -> parent.onExit().thenRun(() -> {
            log.info("parent process " + parentPid + " exited; stopping");
            System.exit(0);
          }),
          () -> {
            log.info("parent process " + parentPid + " is already gone; stopping");
            System.exit(0);
          });
    }
    stopped.await();
    return 0;
  }

  private SpoolConfig spool() {
    SpoolConfig spool = SpoolConfig.defaults();
    if (spoolDir != null) {
      spool = spool.withDirectory(spoolDir.toAbsolutePath());
    }
    if (spoolCap != null) {
      spool = spool.withDiskCapBytes(spoolCap);
    }
    if (spoolMemoryBatches != null) {
      spool = spool.withMemoryBatches(spoolMemoryBatches);
    }
    return spool;
  }

  /** Prints the agent version. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"gpuwarden agent " + io.gpuwarden.common.Version.get()};
    }
  }
}
