package io.gpuwarden.collector;

import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.collector.CollectorConfig;
import io.gpuwarden.collector.CollectorServer;
import io.gpuwarden.collector.gate.GateConfig;
import io.gpuwarden.collector.gate.GateStoreException;
import io.gpuwarden.collector.security.TlsConfig;
import io.gpuwarden.collector.verdict.PoolExpectation;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code gpuwarden collector}: runs the collector until SIGTERM/SIGINT. */
@Command(name = "collector", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the collector: ingests agents' streams and serves the Fleet API, gRPC health and reflection."},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped cleanly (143 after SIGTERM, the JVM's convention)", "1:could not start (port in use, gate database unusable, bad admin token file)",
        "2:invalid command line"})
public final class CollectorCommand implements Callable<Integer> {
  /** Exit code: stopped cleanly. */
  public static final int EXIT_OK = 0;
  /** Exit code: could not start. */
  public static final int EXIT_START_FAILED = 1;
  /** Exit code: invalid command line. */
  public static final int EXIT_USAGE = 2;

  @Option(names = "--listen", paramLabel = "HOST:PORT",
      description = "Address to serve gRPC on (default: 0.0.0.0:" + CollectorConfig.DEFAULT_PORT + ").")
  String listen = "0.0.0.0:" + CollectorConfig.DEFAULT_PORT;

  @Option(names = "--stale-after", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "A node whose last batch is older than this is UNKNOWN; agents are told it and send at least "
          + "every half of it (default: 10s).")
  Duration staleAfter = CollectorConfig.DEFAULT_STALE_AFTER;

  @Option(names = "--metrics-listen", paramLabel = "HOST:PORT",
      description = "Serve Prometheus metrics on http://HOST:PORT/metrics; 'none' to turn off (default: ${DEFAULT-VALUE}).")
  String metricsListen = "0.0.0.0:9400";

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Where the release gate keeps its database (gate.db) and, unless --admin-tokens is given, admin.tokens "
          + "(default: ${DEFAULT-VALUE}).")
  Path dataDir = Path.of("/var/lib/gpuwarden/collector");

  @Option(names = "--admin-tokens", paramLabel = "FILE",
      description = "Admin identities allowed to change the gate: 'NAME TOKEN' per line (default: DATA_DIR/admin.tokens, "
          + "created with one random token named admin when missing).")
  Path adminTokens;

  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain of the collector; with --tls-key, serves gRPC over TLS (default: plaintext).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "PEM private key of --tls-cert: PKCS#8 'PRIVATE KEY' or PKCS#1 'RSA PRIVATE KEY', unencrypted.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "PEM CA of client certificates (mTLS): an agent's node id is then its certificate's first DNS name, "
          + "else its CN.")
  Path tlsClientCa;

  @Option(names = "--tls-client-auth", paramLabel = "MODE",
      description = "NONE, OPTIONAL (agents need a certificate or a token; other clients connect without) or REQUIRE "
          + "(default: REQUIRE with --tls-client-ca, else NONE).")
  TlsConfig.ClientAuth tlsClientAuth;

  @Option(names = "--agent-tokens", paramLabel = "FILE",
      description = "Agents authenticate with bearer tokens: 'NODE_ID TOKEN' per line. Without this and without client "
          + "certificates any agent can report as any node (trusted networks only).")
  Path agentTokens;

  @Option(names = "--soak", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "How long a node under verification must stay HEALTHY with fresh telemetry (default: 5m).")
  Duration soak = GateConfig.defaults().soak();

  @Option(names = "--verify-timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Quarantine a node that has not passed verification after this long (default: 30m).")
  Duration verifyTimeout = GateConfig.defaults().verifyTimeout();

  @Option(names = "--budget-percent", paramLabel = "PERCENT",
      description = "Default share of a pool that may be out of service at once; 0 for none (default: 5).")
  double budgetPercent = GateConfig.defaults().maxPercentOut();

  @Option(names = "--budget-nodes", paramLabel = "N",
      description = "Default number of a pool's nodes that may be out at once; 0 for none (default: 0).")
  int budgetNodes;

  @Option(names = "--auto-quarantine", description = "Quarantine SERVING nodes that turn UNHEALTHY (default: off; they are "
      + "not allocatable either way).")
  boolean autoQuarantine;

  @Option(names = "--breaker", paramLabel = "SHARE/MIN/WINDOW",
      description = "Circuit breaker: stop automatic quarantine when more than SHARE of a pool (and at least MIN nodes) "
          + "turn UNHEALTHY within WINDOW (default: 0.1/3/5m).")
  String breaker = "0.1/3/5m";

  @Option(names = "--expect", paramLabel = "POOL:KEY=N,...",
      description = "Expected inventory of a pool, e.g. h100:gpus=8,ib-ports=8,ib-rate=400; repeatable. Fewer GPUs or ports "
          + "is UNHEALTHY, a slower ACTIVE port DEGRADED.")
  List<String> expect = List.of();

  @Option(names = "--max-agents", paramLabel = "N",
      description = "Most agent streams served at once; more are refused with RESOURCE_EXHAUSTED and the agents retry "
          + "later (default: ${DEFAULT-VALUE}).")
  int maxAgents = IngestLimits.DEFAULT_MAX_AGENTS;

  @Option(names = "--ingest-workers", paramLabel = "N",
      description = "Threads that decode and apply agents' batches and serve the APIs; 0 for one per core, at least 2 "
          + "(default: ${DEFAULT-VALUE}).")
  int ingestWorkers;

  @Override
  public Integer call() throws InterruptedException {
    int colon = listen.lastIndexOf(':');
    if (colon <= 0 || colon == listen.length() - 1) {
      System.err.println("gpuwarden collector: --listen must be HOST:PORT, got '" + listen + "'");
      return EXIT_USAGE;
    }
    CollectorConfig config;
    try {
      String[] b = breaker.split("/");
      if (b.length != 3) {
        throw new IllegalArgumentException("--breaker must be SHARE/MIN/WINDOW, e.g. 0.1/3/5m; got '" + breaker + "'");
      }
      GateConfig gate = GateConfig.defaults().withVerification(soak, verifyTimeout).withBudget(budgetPercent, budgetNodes)
          .withAutoQuarantine(autoQuarantine)
          .withBreaker(DurationConverter.parse(b[2]), Double.parseDouble(b[0]), Integer.parseInt(b[1]));
      List<PoolExpectation> expectations = expect.stream().map(PoolExpectation::parse).toList();
      config = CollectorConfig.defaults()
          .withListen(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)))
          .withStaleAfter(staleAfter)
          .withDataDir(dataDir)
          .withGate(gate)
          .withExpectations(expectations)
          .withIngest(IngestLimits.defaults().withMaxAgents(maxAgents).withWorkers(ingestWorkers));
      if (adminTokens != null) {
        config = config.withAdminTokens(adminTokens);
      }
      if (agentTokens != null) {
        config = config.withAgentTokens(agentTokens);
      }
      TlsConfig tls = tls();
      if (tls != null) {
        config = config.withTls(tls);
      }
      if (!metricsListen.equals("none")) {
        config = config.withMetricsListen(metricsListen);
      }
    } catch (IllegalArgumentException e) {
      System.err.println("gpuwarden collector: " + e.getMessage());
      return EXIT_USAGE;
    }
    fileLimitWarning(maxAgents, io.gpuwarden.common.OpenFileLimit.ofThisProcess()).ifPresent(System.err::println);
    CollectorServer server;
    try {
      server = CollectorServer.create(config, Clock.systemUTC());
    } catch (GateStoreException | IllegalArgumentException e) {
      System.err.println("gpuwarden collector: " + e.getMessage());
      return EXIT_START_FAILED;
    }
    try {
      server.start();
    } catch (IOException e) {
      System.err.println("gpuwarden collector: cannot listen on " + listen + ": " + e.getMessage());
      return EXIT_START_FAILED;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "gpuwarden-shutdown"));
    server.blockUntilShutdown();
    return EXIT_OK;
  }

  /** Files a collector needs besides one per agent connection: jars, the gate database, the JVM's own, API clients. */
  static final int SPARE_FILES = 200;

  /**
   * Returns a warning when {@code maxAgents} connections cannot all be open at once under the
   * process's open-file limit: agents past it fail to connect (and retry) instead of being served.
   */
  static java.util.Optional<String> fileLimitWarning(int maxAgents, java.util.OptionalLong limit) {
    if (limit.isEmpty() || (long) maxAgents + SPARE_FILES <= limit.getAsLong()) {
      return java.util.Optional.empty();
    }
    long fit = Math.max(0, limit.getAsLong() - SPARE_FILES);
    return java.util.Optional.of(String.format(java.util.Locale.ROOT, "gpuwarden collector: warning: --max-agents %d,"
        + " but this process may open at most %d files (ulimit -n; LimitNOFILE= in a systemd unit): about %d agents"
        + " can connect, and the rest fail to connect and retry; raise the limit or lower --max-agents",
        maxAgents, limit.getAsLong(), fit));
  }

  /** Returns the TLS the options ask for, or null for plaintext. */
  private TlsConfig tls() {
    if (tlsCert == null && tlsKey == null) {
      if (tlsClientCa != null || tlsClientAuth != null) {
        throw new IllegalArgumentException("--tls-client-ca and --tls-client-auth need --tls-cert and --tls-key");
      }
      return null;
    }
    if (tlsCert == null || tlsKey == null) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key");
    }
    TlsConfig tls = TlsConfig.of(tlsCert, tlsKey);
    TlsConfig.ClientAuth auth = tlsClientAuth != null ? tlsClientAuth
        : tlsClientCa != null ? TlsConfig.ClientAuth.REQUIRE : TlsConfig.ClientAuth.NONE;
    if (tlsClientCa != null) {
      return tls.withClientCa(tlsClientCa, auth);
    }
    return new TlsConfig(tlsCert, tlsKey, java.util.Optional.empty(), auth);
  }
}
