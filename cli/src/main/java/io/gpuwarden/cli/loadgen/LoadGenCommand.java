package io.gpuwarden.cli.loadgen;

import io.gpuwarden.cli.ExitCodes;
import io.gpuwarden.cli.demo.DemoLayout;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.common.cli.DurationConverter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code gpuwarden loadgen}: N simulated agents, each its own real gRPC connection and ingest
 * stream, sending batches the agent's own code built ({@link BatchTemplates}) at a given total rate,
 * with a report line every interval and a final line that says whether anything was lost.
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
        // One string per paragraph: picocli wraps each to the terminal's width.
        "Load generator: opens --nodes simulated agents against a running collector, each with its own connection and"
            + " ingest stream, and sends --rate batches per second in all, spread evenly over the agents (--burst batches"
            + " back to back per agent, as the agent's send interval groups its cycles). The batches are made by the"
            + " agent's own code on the fake NVML library (8 H100s, 8 NDR InfiniBand ports): about 3.9 KB each, 9.5 KB"
            + " when they read the InfiniBand counters (--shape), and one in --xid-every has an application Xid event."
            + " Every agent keeps what it made until it is acknowledged, sends only while its stream is ready (so a"
            + " collector that pushes back slows the agents down), and reopens a refused or broken stream with backoff.",
        "",
        "Prints one line per --report interval: batches sent and acknowledged per second, acknowledgement latency"
            + " (from when a batch was made) p50/p99/max, backlog (made, not yet acknowledged) and connected agents;"
            + " then waits up to --drain for the last acknowledgements, closes every stream, and ends with 'lost 0' or"
            + " 'LOST n'.",
        "",
        "One process opens --nodes connections and may not open more files than its limit (ulimit -n): for more"
            + " agents, run several load generators with distinct --first-node (bench/ingest-load.sh does)."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:every batch made was acknowledged (nothing lost)",
        "1:some batches were not acknowledged within --drain (the final line says how many), or the load generator"
            + " could not build its batches",
        "2:invalid command line, or more --nodes than this process may open files"})
public final class LoadGenCommand implements Callable<Integer> {
  /** Files the process needs besides one connection per agent (jars, the JVM's own, the probe's connection). */
  static final int SPARE_FILES = 200;

  @Spec
  CommandSpec spec;

  @Option(names = "--nodes", paramLabel = "N", required = true, description = "Simulated agents, one connection each.")
  int nodes;

  @Option(names = "--rate", paramLabel = "R", required = true,
      description = "Batches per second, all agents together (one batch per 5 s each: R = N / 5).")
  double rate;

  @Option(names = "--burst", paramLabel = "B", description = "Batches each agent sends back to back (default: ${DEFAULT-VALUE}).")
  int burst = 1;

  @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long batches are made (default: 60s).")
  Duration duration = Duration.ofSeconds(60);

  @Option(names = "--drain", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long to wait after that for the last acknowledgements (default: 30s).")
  Duration drain = Duration.ofSeconds(30);

  @Option(names = "--report", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Interval of the report lines (default: 5s).")
  Duration report = Duration.ofSeconds(5);

  @Option(names = "--collector", paramLabel = "HOST:PORT",
      description = "Collector to load, plaintext (default: localhost:" + CollectorConfig.DEFAULT_PORT + ").")
  String collector = "localhost:" + CollectorConfig.DEFAULT_PORT;

  @Option(names = "--node-prefix", paramLabel = "PREFIX", description = "Node ids are PREFIX and a number (default: ${DEFAULT-VALUE}).")
  String nodePrefix = "load-";

  @Option(names = "--first-node", paramLabel = "K",
      description = "Number of the first node; several load generators use distinct ranges (default: ${DEFAULT-VALUE}).")
  int firstNode;

  @Option(names = "--pool", paramLabel = "POOL", description = "The agents' pool (default: ${DEFAULT-VALUE}).")
  String pool = "load";

  @Option(names = "--shape", paramLabel = "SHAPE", converter = ShapeConverter.class,
      description = "small (3.9 KB), large (9.5 KB: InfiniBand counters read) or mixed (one large in ten, as the agent"
          + " sends them; default: ${DEFAULT-VALUE}).")
  LoadSettings.Shape shape = LoadSettings.Shape.MIXED;

  @Option(names = "--xid-every", paramLabel = "N",
      description = "About one batch in N carries an application Xid 13 event, 0 for none (default: ${DEFAULT-VALUE}).")
  int xidEvery = 10_000;

  @Option(names = "--backlog", paramLabel = "N",
      description = "Batches each agent keeps unacknowledged at most; while full it makes none (counted as held back:"
          + " the agents were slowed; default: ${DEFAULT-VALUE}).")
  int backlog = 600;

  @Option(names = "--max-backoff", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Longest wait before an agent reopens a refused or broken stream (default: 5s).")
  Duration maxBackoff = Duration.ofSeconds(5);

  @Option(names = "--threads", paramLabel = "N",
      description = "Threads that make batches, and as many transport threads (default: ${DEFAULT-VALUE}).")
  int threads = 2;

  @Option(names = "--fault-every", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Every DURATION (from 10 s in) one more node reports Xid 79 and the time until a WatchVerdicts"
          + " subscriber sees it UNHEALTHY and a WatchGate subscriber sees it not allocatable is measured; a fault batch"
          + " behind unacknowledged ones is also previewed, as the agent does; 0 for none (default: 0).")
  Duration faultEvery = Duration.ZERO;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    LoadSettings settings;
    try {
      int colon = collector.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("--collector must be HOST:PORT, got '" + collector + "'");
      }
      int port;
      try {
        port = Integer.parseInt(collector.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--collector port must be a number, got '" + collector.substring(colon + 1) + "'");
      }
      settings = new LoadSettings(nodes, rate, burst, duration, drain, report, collector.substring(0, colon), port,
          nodePrefix, firstNode, pool, shape, xidEvery, backlog, maxBackoff, threads, faultEvery);
    } catch (IllegalArgumentException e) {
      err.println("gpuwarden loadgen: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    OptionalLong files = io.gpuwarden.common.OpenFileLimit.ofThisProcess();
    if (files.isPresent() && (long) nodes + SPARE_FILES > files.getAsLong()) {
      err.printf("gpuwarden loadgen: --nodes %d needs %d connections, and this process may open at most %d files"
          + " (ulimit -n, with %d for the JVM); run several load generators with distinct --first-node%n", nodes, nodes,
          files.getAsLong(), SPARE_FILES);
      return ExitCodes.USAGE;
    }
    Path work = Files.createTempDirectory("gpuwarden-loadgen");
    // Stopped with SIGTERM or Ctrl-C, the finally below does not run: the JVM's shutdown does it.
    Thread cleanup = new Thread(() -> deleteTree(work), "gpuwarden-loadgen-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      BatchTemplates templates;
      try {
        templates = BatchTemplates.build(DemoLayout.home(), work);
      } catch (IllegalStateException e) {
        err.println("gpuwarden loadgen: " + e.getMessage());
        return ExitCodes.CALL_FAILED;
      }
      LoadGenerator.Result r = new LoadGenerator(settings, templates, out).run();
      return r.lost() == 0 ? ExitCodes.OK : ExitCodes.CALL_FAILED;
    } finally {
      deleteTree(work);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException e) {
        // shutting down already: the hook runs (and finds nothing left)
      }
    }
  }

  /** Deletes {@code dir}, quietly: a scratch directory under the temp dir. */
  private static void deleteTree(Path dir) {
    try {
      io.gpuwarden.common.FileTrees.delete(dir);
    } catch (IOException e) {
      // best effort
    }
  }

  /** Reads a shape by its name in any case. */
  static final class ShapeConverter implements picocli.CommandLine.ITypeConverter<LoadSettings.Shape> {
    @Override
    public LoadSettings.Shape convert(String value) {
      for (LoadSettings.Shape s : LoadSettings.Shape.values()) {
        if (s.name().equalsIgnoreCase(value)) {
          return s;
        }
      }
      throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a shape: use small, large or mixed");
    }
  }
}
