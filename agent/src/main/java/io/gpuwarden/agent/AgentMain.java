package io.gpuwarden.agent;

import io.gpuwarden.agent.cli.DurationConverter;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.nvml.NvmlException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Command line of the agent: {@code gpuwarden agent [options]}. */
@Command(
    name = "gpuwarden agent",
    mixinStandardHelpOptions = true,
    versionProvider = AgentMain.Version.class,
    sortOptions = false,
    description = {
        "Samples this host's GPUs through NVML and streams the telemetry to a gpuwarden collector.",
        "Runs until SIGTERM/SIGINT; on shutdown it waits up to 5 s for the collector to acknowledge what it sampled."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
        "0:stopped cleanly (also 143 after SIGTERM, the JVM's convention)",
        "1:could not start (NVML missing or failing, boot id unreadable)",
        "2:invalid command line"})
public final class AgentMain implements Callable<Integer> {
  static {
    // Before the first Logger below: the log manager is chosen when logging first initialises.
    Logging.configure();
  }

  private static final Logger log = Logger.getLogger(AgentMain.class.getName());

  @Option(names = "--collector", paramLabel = "HOST:PORT", description = "Collector address (default: ${DEFAULT-VALUE}).")
  String collector = AgentConfig.DEFAULT_COLLECTOR_TARGET;

  @Option(names = "--node-id", paramLabel = "ID", description = "Node id (default: the host name).")
  String nodeId;

  @Option(names = "--pool", paramLabel = "NAME", description = "Pool of this node (default: ${DEFAULT-VALUE}).")
  String pool = AgentConfig.DEFAULT_POOL;

  @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name.")
  String cluster = "";

  @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label for this node; repeatable.")
  Map<String, String> labels = Map.of();

  @Option(names = "--interval", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Sampling interval, e.g. 1s, 500ms (default: 1s).")
  Duration interval = AgentConfig.DEFAULT_SAMPLE_INTERVAL;

  @Option(names = "--nvml-lib", paramLabel = "PATH",
      description = "NVML library file to load (default: libnvidia-ml.so.1 from the system library path).")
  Path nvmlLib;

  @Option(names = "--boot-id-file", paramLabel = "PATH", description = "Boot id file (default: ${DEFAULT-VALUE}).")
  Path bootIdFile = HostIdentity.DEFAULT_BOOT_ID_FILE;

  @Option(names = "--parent-pid", paramLabel = "PID",
      description = "Exit when this process exits (used by the demo so no agent outlives it).")
  Long parentPid;

  /** Runs the agent command line; exits the JVM with the command's exit code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** Returns the picocli command line, for embedding and tests. */
  public static CommandLine commandLine() {
    return new CommandLine(new AgentMain()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public Integer call() throws InterruptedException {
    AgentConfig config;
    try {
      config = AgentConfig.builder()
          .nodeId(nodeId)
          .pool(pool)
          .cluster(cluster)
          .labels(labels)
          .collectorTarget(collector)
          .sampleInterval(interval)
          .nvmlLibrary(nvmlLib)
          .bootIdFile(bootIdFile)
          .build();
    } catch (IllegalArgumentException e) {
      System.err.println("gpuwarden agent: " + e.getMessage());
      return 2;
    }
    Agent agent;
    try {
      agent = Agent.start(config);
    } catch (NvmlException | IllegalStateException e) {
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

  /** Prints the agent version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"gpuwarden agent " + AgentVersion.get()};
    }
  }
}
