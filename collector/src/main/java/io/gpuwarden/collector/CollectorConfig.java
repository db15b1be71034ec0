package io.gpuwarden.collector;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The collector's configuration, an immutable value.
 *
 * @param listenHost address to bind, e.g. {@code 0.0.0.0} or {@code 127.0.0.1}
 * @param port gRPC port; 0 picks a free one
 * @param staleAfter a node whose last batch is older than this is UNKNOWN
 * @param collectorId identity of this collector instance, for agents' logs
 */
public record CollectorConfig(String listenHost, int port, Duration staleAfter, String collectorId) {
  /** Default gRPC port for agents, the CLI and tenants' tools. */
  public static final int DEFAULT_PORT = 7700;
  /** Default staleness limit: ten missed batches at the agent's default 1 s interval. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(10);

  /** Validates. */
  public CollectorConfig {
    requireNonNull(listenHost, "listenHost");
    requireNonNull(staleAfter, "staleAfter");
    requireNonNull(collectorId, "collectorId");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (staleAfter.isNegative() || staleAfter.isZero()) {
      throw new IllegalArgumentException("stale-after must be positive, got " + staleAfter);
    }
  }

  /** Returns the defaults: all interfaces, port 7700, stale after 10 s. */
  public static CollectorConfig defaults() {
    return new CollectorConfig("0.0.0.0", DEFAULT_PORT, DEFAULT_STALE_AFTER, "collector");
  }

  /** Returns a copy listening on {@code host:port}. */
  public CollectorConfig withListen(String host, int port) {
    return new CollectorConfig(host, port, staleAfter, collectorId);
  }

  /** Returns a copy with another staleness limit. */
  public CollectorConfig withStaleAfter(Duration staleAfter) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId);
  }
}
