package io.gpuwarden.collector.cli;

import io.gpuwarden.agent.cli.DurationConverter;
import io.gpuwarden.collector.CollectorConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Options every client command shares: where the collector is and how long to wait for it. */
public final class CollectorAddress {
  @Option(names = "--collector", paramLabel = "HOST:PORT",
      description = "Collector address (default: localhost:" + CollectorConfig.DEFAULT_PORT + ", or $GPUWARDEN_COLLECTOR).")
  String target;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Deadline of each call (default: 5s).")
  Duration timeout = Duration.ofSeconds(5);

  /** Returns the collector address to use. */
  public String target() {
    if (target != null) {
      return target;
    }
    String env = System.getenv("GPUWARDEN_COLLECTOR");
    return env != null && !env.isBlank() ? env : "localhost:" + CollectorConfig.DEFAULT_PORT;
  }

  /** Returns the per-call deadline. */
  public Duration timeout() {
    return timeout;
  }

  /** Opens a channel to the collector. */
  public ManagedChannel open() {
    return NettyChannelBuilder.forTarget(target()).usePlaintext().build();
  }
}
