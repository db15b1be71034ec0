package io.gpuwarden.collector;

import io.gpuwarden.collector.fleet.FleetService;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.collector.gate.AdminAuthInterceptor;
import io.gpuwarden.collector.gate.AdminTokens;
import io.gpuwarden.collector.gate.GateService;
import io.gpuwarden.collector.gate.GateStore;
import io.gpuwarden.collector.gate.ReleaseGate;
import io.gpuwarden.collector.gate.SqliteGateStore;
import io.gpuwarden.collector.feed.ChangeFeed;
import io.gpuwarden.collector.ingest.DurableAcks;
import io.gpuwarden.collector.ingest.IngestJournal;
import io.gpuwarden.collector.ingest.IngestService;
import io.gpuwarden.collector.ingest.PreviewCalls;
import io.gpuwarden.collector.metrics.CollectorMetrics;
import io.gpuwarden.collector.security.AgentAuthInterceptor;
import io.gpuwarden.collector.security.AgentTokens;
import io.gpuwarden.collector.security.TlsConfig;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.GateServiceGrpc;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The collector's gRPC server: Ingest and Fleet services, gRPC health checking, and server
 * reflection (v1 and v1alpha, so {@code buf curl} and grpcurl-style tools can list and call it).
 *
 * <pre>{@code
 * CollectorServer server = CollectorServer.create(CollectorConfig.defaults(), Clock.systemUTC()).start();
 * server.blockUntilShutdown();
 * }</pre>
 */
public final class CollectorServer implements AutoCloseable {
  private static final Logger log = Logger.getLogger(CollectorServer.class.getName());

  private final Server server;
  private final NodeRegistry registry;
  private final HealthStatusManager health;
  private final ScheduledExecutorService sweeper;
  private final GateStore store;
  private final IngestJournal journal;
  private final ReleaseGate gate;
  private final AdminTokens adminTokens;
  private final CollectorConfig config;
  private final Clock clock;
  private final ExecutorService workers;
  private final PreviewCalls previewCalls;
  private final IngestService ingest;
  private final PrometheusRegistry metrics = new PrometheusRegistry();
  private HTTPServer metricsServer;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private CollectorServer(Server server, NodeRegistry registry, HealthStatusManager health, ScheduledExecutorService sweeper,
      GateStore store, IngestJournal journal, ReleaseGate gate, AdminTokens adminTokens, CollectorConfig config, Clock clock,
      ExecutorService workers, PreviewCalls previewCalls, IngestService ingest) {
    this.server = server;
    this.registry = registry;
    this.health = health;
    this.sweeper = sweeper;
    this.store = store;
    this.journal = journal;
    this.gate = gate;
    this.adminTokens = adminTokens;
    this.config = config;
    this.clock = clock;
    this.workers = workers;
    this.previewCalls = previewCalls;
    this.ingest = ingest;
    CollectorMetrics.register(metrics, registry, gate, journal);
  }

  /**
   * Creates a Netty server bound as {@code config} says, with TLS when it has some.
   *
   * @throws IllegalArgumentException when a TLS file cannot be used (and as {@link #create(ServerBuilder, CollectorConfig, Clock)})
   */
  public static CollectorServer create(CollectorConfig config, Clock clock) {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.listenHost(), config.port()))
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // A fixed window per stream: automatic window tuning would ping every agent on every batch
        // read, waking the agent (and this event loop) once more a batch for nothing; and a small
        // one bounds what an agent the collector does not keep up with can make it hold.
        .flowControlWindow(config.ingest().windowBytes())
        // Reads of at most 16 KiB: the bytes of a frame stay in the buffer they were read into until
        // its batch is decoded, so each unread frame of a stream the collector is behind on pins a
        // whole read buffer (up to 64 KiB by default), which made 19,600 stalled agents hold 2 GiB.
        .withChildOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(512, 2048, 16 * 1024))
        .maxInboundMessageSize(16 * 1024 * 1024);
    config.tls().ifPresent(tls -> builder.sslContext(tls.sslContext()));
    return create(builder, config, clock);
  }

  /**
   * Creates a server on any builder (tests pass an in-process one).
   *
   * @throws GateStoreException when the gate database cannot be opened
   * @throws IllegalArgumentException when the admin or agent token file is unreadable or malformed
   */
  public static CollectorServer create(ServerBuilder<?> builder, CollectorConfig config, Clock clock) {
    NodeRegistry registry = new NodeRegistry(clock, new StalenessVerdict(config.staleAfter(), config.expectations()));
    HealthStatusManager health = new HealthStatusManager();
    AdminTokens tokens = config.adminTokens().map(AdminTokens::load)
        .orElseGet(() -> config.dataDir().map(d -> AdminTokens.loadOrCreate(d.resolve("admin.tokens")))
            .orElseGet(() -> AdminTokens.random("admin")));
    GateStore store = config.dataDir().<GateStore>map(SqliteGateStore::open).orElseGet(SqliteGateStore::inMemory);
    log.info(config.dataDir().map(d -> "gate state in " + d.resolve("gate.db") + "; admin tokens from "
            + config.adminTokens().orElse(d.resolve("admin.tokens")))
        .orElse("gate state in memory only (no --data-dir): it does not survive a restart"));
    AgentAuthInterceptor agentAuth = agentAuth(config);
    IngestJournal journal = IngestJournal.start(store, registry, clock);
    DurableAcks acks = new DurableAcks(journal.restoredApplied());
    journal.addDurableListener(acks);
    ReleaseGate gate = new ReleaseGate(store, registry, config.gate(), config.staleAfter(), clock);
    // Every call runs on a fixed pool (decoding and applying batches off the transport threads),
    // never a thread per stream.
    ExecutorService workers = Executors.newFixedThreadPool(config.ingest().workerThreads(), new ThreadFactory() {
      private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();

      @Override
      public Thread newThread(Runnable r) {
        Thread t = new Thread(r, "gpuwarden-grpc-" + n.incrementAndGet());
        t.setDaemon(true);
        return t;
      }
    });
    // Calls are looked up on the transport thread (direct), then run on the workers, or, for
    // previews, on a thread of their own (PreviewCalls): no preview waits behind the workers' queue.
    PreviewCalls previewCalls = new PreviewCalls(workers);
    builder.directExecutor().callExecutor(previewCalls);
    IngestService ingest = new IngestService(registry, config.collectorId(), acks, config.staleAfter(), config.ingest().maxAgents(),
        journal::whenRoom);
    builder.addService(ServerInterceptors.intercept(ingest, agentAuth))
        .addService(new FleetService(registry, gate::status))
        .addService(ServerInterceptors.intercept(new GateService(gate, journal), new AdminAuthInterceptor(tokens)))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    addLegacyReflection(builder);
    // Two threads: the staleness sweep (every 100 ms) never waits behind a remake of the peer indexes.
    ScheduledExecutorService sweeper = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "gpuwarden-verdict-sweep");
      t.setDaemon(true);
      return t;
    });
    return new CollectorServer(builder.build(), registry, health, sweeper, store, journal, gate, tokens, config, clock, workers,
        previewCalls, ingest);
  }

  /** Returns the Ingest service's authentication, logging how agents connect (a warning when they are not authenticated). */
  private static AgentAuthInterceptor agentAuth(CollectorConfig config) {
    boolean certificates = config.tls().map(t -> t.clientAuth() != TlsConfig.ClientAuth.NONE).orElse(false);
    AgentAuthInterceptor auth = new AgentAuthInterceptor(certificates, config.agentTokens().map(AgentTokens::load));
    if (!auth.required()) {
      log.warning(auth.describe());
    } else {
      log.info(auth.describe());
    }
    if (config.tls().isEmpty() && config.agentTokens().isPresent()) {
      log.warning("agent tokens are checked but travel in clear text: give the collector --tls-cert and --tls-key");
    }
    return auth;
  }

  @SuppressWarnings("deprecation")
  private static void addLegacyReflection(ServerBuilder<?> builder) {
    // v1alpha reflection, for clients that predate v1 (older grpcurl).
    builder.addService(ProtoReflectionService.newInstance());
  }

  /** Starts serving (gRPC, and metrics when configured) and the staleness sweep. */
  public CollectorServer start() throws IOException {
    server.start();
    if (config.metricsListen().isPresent()) {
      InetSocketAddress at = CollectorConfig.hostPort(config.metricsListen().get());
      try {
        metricsServer = HTTPServer.builder().hostname(at.getHostString()).port(at.getPort()).registry(metrics).buildAndStart();
      } catch (IOException e) {
        server.shutdownNow();
        throw new IOException("cannot serve metrics on " + config.metricsListen().get() + ": " + e.getMessage(), e);
      }
      log.info("metrics on http://" + at.getHostString() + ":" + metricsServer.getPort() + "/metrics");
    }
    for (String service : new String[] {IngestServiceGrpc.SERVICE_NAME, FleetServiceGrpc.SERVICE_NAME,
        GateServiceGrpc.SERVICE_NAME, ""}) {
      health.setStatus(service, ServingStatus.SERVING);
    }
    // Staleness depends on time alone, so someone must look even when no batch arrives: the nodes
    // whose deadline passed, not every node.
    sweeper.scheduleAtFixedRate(this::sweep, 100, 100, TimeUnit.MILLISECONDS);
    // The peer comparison's indexes are remade here, twice a second, so that no batch pays O(pool) for them.
    sweeper.scheduleAtFixedRate(this::refreshPeers, 500, 500, TimeUnit.MILLISECONDS);
    gate.start();
    log.info("collector listening on port " + port() + " (" + config.tls().map(TlsConfig::describe).orElse("plaintext") + ")");
    return this;
  }

  private void sweep() {
    try {
      registry.sweepDue(clock.instant());
    } catch (RuntimeException e) {
      log.warning("verdict sweep failed: " + e);
    }
  }

  private void refreshPeers() {
    try {
      registry.refreshPeers(clock.instant());
    } catch (RuntimeException e) {
      log.warning("peer comparison refresh failed: " + e);
    }
  }

  /** Returns the bound port. */
  public int port() {
    return server.getPort();
  }

  /** Returns the port metrics are served on; -1 when they are not. */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.getPort();
  }

  /** Returns the Prometheus registry of the collector's metrics. */
  public PrometheusRegistry metrics() {
    return metrics;
  }

  /** Returns the release gate. */
  public ReleaseGate gate() {
    return gate;
  }

  /** Returns the admin tokens this collector accepts (tests and the demo use {@code tokenOf}). */
  public AdminTokens adminTokens() {
    return adminTokens;
  }

  /** Returns the ingest journal (durable batches and the nodes' history). */
  public IngestJournal journal() {
    return journal;
  }

  /** Returns the change feed every outlet subscribes to. */
  public ChangeFeed feed() {
    return registry.feed();
  }

  /** Returns the node registry. */
  public NodeRegistry registry() {
    return registry;
  }

  /** Blocks until the server terminates. */
  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  /** Stops: reports NOT_SERVING, refuses new calls, lets running ones finish for up to 3 s. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    sweeper.shutdownNow();
    gate.close();
    if (metricsServer != null) {
      metricsServer.close();
    }
    server.shutdown();
    try {
      if (!server.awaitTermination(3, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    workers.shutdownNow();
    previewCalls.close();
    journal.close();
    store.close();
  }

  /** Returns the ingest service (open and refused agent streams). */
  public IngestService ingest() {
    return ingest;
  }
}
