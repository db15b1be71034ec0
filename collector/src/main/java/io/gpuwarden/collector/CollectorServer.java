package io.gpuwarden.collector;

import io.gpuwarden.collector.fleet.FleetService;
import io.gpuwarden.collector.fleet.NodeRegistry;
import io.gpuwarden.collector.fleet.StalenessVerdict;
import io.gpuwarden.collector.ingest.IngestService;
import io.gpuwarden.proto.v1.FleetServiceGrpc;
import io.gpuwarden.proto.v1.IngestServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.Executors;
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
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private CollectorServer(Server server, NodeRegistry registry, HealthStatusManager health, ScheduledExecutorService sweeper) {
    this.server = server;
    this.registry = registry;
    this.health = health;
    this.sweeper = sweeper;
  }

  /** Creates a Netty server bound as {@code config} says. */
  public static CollectorServer create(CollectorConfig config, Clock clock) {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.listenHost(), config.port()))
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxInboundMessageSize(16 * 1024 * 1024);
    return create(builder, config, clock);
  }

  /** Creates a server on any builder (tests pass an in-process one). */
  public static CollectorServer create(ServerBuilder<?> builder, CollectorConfig config, Clock clock) {
    NodeRegistry registry = new NodeRegistry(clock, new StalenessVerdict(config.staleAfter()));
    HealthStatusManager health = new HealthStatusManager();
    builder.addService(new IngestService(registry, config.collectorId()))
        .addService(new FleetService(registry))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    addLegacyReflection(builder);
    ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "gpuwarden-verdict-sweep");
      t.setDaemon(true);
      return t;
    });
    return new CollectorServer(builder.build(), registry, health, sweeper);
  }

  @SuppressWarnings("deprecation")
  private static void addLegacyReflection(ServerBuilder<?> builder) {
    // v1alpha reflection, for clients that predate v1 (older grpcurl).
    builder.addService(ProtoReflectionService.newInstance());
  }

  /** Starts serving and the staleness sweep. */
  public CollectorServer start() throws IOException {
    server.start();
    for (String service : new String[] {IngestServiceGrpc.SERVICE_NAME, FleetServiceGrpc.SERVICE_NAME, ""}) {
      health.setStatus(service, ServingStatus.SERVING);
    }
    // Staleness depends on time alone, so someone must look even when no batch arrives.
    sweeper.scheduleAtFixedRate(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
    log.info("collector listening on port " + port());
    return this;
  }

  private void sweep() {
    try {
      registry.reevaluateAll();
    } catch (RuntimeException e) {
      log.warning("verdict sweep failed: " + e);
    }
  }

  /** Returns the bound port. */
  public int port() {
    return server.getPort();
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
  }
}
