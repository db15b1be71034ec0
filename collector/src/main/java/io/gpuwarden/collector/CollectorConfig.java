package io.gpuwarden.collector;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.collector.security.TlsConfig;
import io.gpuwarden.collector.verdict.PoolExpectation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The collector's configuration, an immutable value.
 *
 * @param listenHost address to bind, e.g. {@code 0.0.0.0} or {@code 127.0.0.1}
 * @param port gRPC port; 0 picks a free one
 * @param staleAfter a node whose last batch is older than this is UNKNOWN
 * @param collectorId identity of this collector instance, for agents' logs
 * @param dataDir where the gate's database lives; empty keeps gate state in memory only (tests)
 * @param adminTokens file of admin tokens; empty: {@code dataDir/admin.tokens}, created with a
 *     random token when missing, or without a data dir one random in-memory token
 * @param gate the release gate's policy
 * @param expectations expected inventory per pool (GPU count, InfiniBand ports and rate)
 * @param metricsListen {@code HOST:PORT} to serve Prometheus metrics on ({@code /metrics}); empty: none
 * @param tls TLS of the gRPC port, with client certificates for mTLS; empty: plaintext
 * @param agentTokens file of {@code NODE_ID TOKEN} lines agents authenticate with; empty: no agent tokens
 *     (without these and without client certificates agents are not authenticated: trusted networks only)
 * @param ingest how many agents, how many threads and how much buffered data per agent stream
 */
public record CollectorConfig(String listenHost, int port, Duration staleAfter, String collectorId, Optional<Path> dataDir,
    Optional<Path> adminTokens, GateConfig gate, List<PoolExpectation> expectations, Optional<String> metricsListen,
    Optional<TlsConfig> tls, Optional<Path> agentTokens, IngestLimits ingest) {
  /** Default gRPC port for agents, the CLI and tenants' tools. */
  public static final int DEFAULT_PORT = 7700;
  /** Default staleness limit: ten missed batches at the agent's default 1 s interval. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(10);

  /** Validates. */
  public CollectorConfig {
    requireNonNull(listenHost, "listenHost");
    requireNonNull(staleAfter, "staleAfter");
    requireNonNull(collectorId, "collectorId");
    requireNonNull(dataDir, "dataDir");
    requireNonNull(adminTokens, "adminTokens");
    requireNonNull(gate, "gate");
    expectations = List.copyOf(requireNonNull(expectations, "expectations"));
    requireNonNull(metricsListen, "metricsListen");
    metricsListen.ifPresent(CollectorConfig::hostPort);
    requireNonNull(tls, "tls");
    requireNonNull(agentTokens, "agentTokens");
    requireNonNull(ingest, "ingest");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535, got " + port);
    }
    if (staleAfter.isNegative() || staleAfter.isZero()) {
      throw new IllegalArgumentException("stale-after must be positive, got " + staleAfter);
    }
  }

  /** Returns the defaults: all interfaces, port 7700, stale after 10 s. */
  public static CollectorConfig defaults() {
    return new CollectorConfig("0.0.0.0", DEFAULT_PORT, DEFAULT_STALE_AFTER, "collector", Optional.empty(), Optional.empty(),
        GateConfig.defaults(), List.of(), Optional.empty(), Optional.empty(), Optional.empty(), IngestLimits.defaults());
  }

  /** Returns a copy listening on {@code host:port}. */
  public CollectorConfig withListen(String host, int port) {
    return new CollectorConfig(host, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy with another staleness limit. */
  public CollectorConfig withStaleAfter(Duration staleAfter) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy keeping gate state in {@code dir}. */
  public CollectorConfig withDataDir(Path dir) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, Optional.of(dir), adminTokens, gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy reading admin tokens from {@code file}. */
  public CollectorConfig withAdminTokens(Path file) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, Optional.of(file), gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy with this gate policy. */
  public CollectorConfig withGate(GateConfig gate) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy expecting this inventory per pool. */
  public CollectorConfig withExpectations(List<PoolExpectation> expectations) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen, tls, agentTokens, ingest);
  }

  /** Returns a copy serving Prometheus metrics on {@code hostPort} ({@code 127.0.0.1:0} picks a free port). */
  public CollectorConfig withMetricsListen(String hostPort) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations,
        Optional.of(hostPort), tls, agentTokens, ingest);
  }

  /** Returns a copy serving gRPC with TLS as {@code tls} says. */
  public CollectorConfig withTls(TlsConfig tls) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen,
        Optional.of(tls), agentTokens, ingest);
  }

  /** Returns a copy authenticating agents with the {@code NODE_ID TOKEN} lines of {@code file}. */
  public CollectorConfig withAgentTokens(Path file) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen,
        tls, Optional.of(file), ingest);
  }

  /** Returns a copy with these ingest limits. */
  public CollectorConfig withIngest(IngestLimits ingest) {
    return new CollectorConfig(listenHost, port, staleAfter, collectorId, dataDir, adminTokens, gate, expectations, metricsListen,
        tls, agentTokens, ingest);
  }

  /**
   * Splits {@code HOST:PORT}.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static java.net.InetSocketAddress hostPort(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
    }
    try {
      return java.net.InetSocketAddress.createUnresolved(hostPort.substring(0, colon),
          Integer.parseInt(hostPort.substring(colon + 1)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad port in '" + hostPort + "': " + e.getMessage(), e);
    }
  }
}
