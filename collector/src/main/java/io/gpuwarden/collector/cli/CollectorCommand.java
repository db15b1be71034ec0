package io.gpuwarden.collector.cli;

import io.gpuwarden.agent.cli.DurationConverter;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpuwarden collector}: runs the collector until SIGTERM/SIGINT. */
@Command(name = "collector", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the collector: ingests agents' streams and serves the Fleet API, gRPC health and reflection."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped cleanly (143 after SIGTERM, the JVM's convention)", "1:could not start (port in use)",
        "2:invalid command line"})
public final class CollectorCommand implements Callable<Integer> {
  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "Address to serve gRPC on (default: 0.0.0.0:" + CollectorConfig.DEFAULT_PORT + ").")
  String listen = "0.0.0.0:" + CollectorConfig.DEFAULT_PORT;

  @Option(names = "--stale-after", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "A node whose last batch is older than this is UNKNOWN (default: 10s).")
  Duration staleAfter = CollectorConfig.DEFAULT_STALE_AFTER;

  @Override
  public Integer call() throws InterruptedException {
    int colon = listen.lastIndexOf(':');
    if (colon <= 0 || colon == listen.length() - 1) {
      System.err.println("gpuwarden collector: --listen must be HOST:PORT, got '" + listen + "'");
      return ExitCodes.USAGE;
    }
    CollectorConfig config;
    try {
      config = CollectorConfig.defaults()
          .withListen(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)))
          .withStaleAfter(staleAfter);
    } catch (IllegalArgumentException e) {
      System.err.println("gpuwarden collector: " + e.getMessage());
      return ExitCodes.USAGE;
    }
    CollectorServer server = CollectorServer.create(config, Clock.systemUTC());
    try {
      server.start();
    } catch (IOException e) {
      System.err.println("gpuwarden collector: cannot listen on " + listen + ": " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "gpuwarden-shutdown"));
    server.blockUntilShutdown();
    return ExitCodes.OK;
  }
}
