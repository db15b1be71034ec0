package io.gpuwarden.agent;

import com.google.protobuf.Duration;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.agent.source.ProtoTime;
import io.gpuwarden.agent.source.nvml.NvmlGpuSource;
import io.gpuwarden.agent.uplink.Backoff;
import io.gpuwarden.agent.uplink.IngestUplink;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running agent: samples every GPU each interval and streams the batches to the collector.
 *
 * <pre>{@code
 * try (Agent agent = Agent.start(AgentConfig.builder().build())) { agent.awaitTermination(); }
 * }</pre>
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = Logger.getLogger(Agent.class.getName());
  private static final java.time.Duration FLUSH_TIMEOUT = java.time.Duration.ofSeconds(5);

  private final AgentConfig config;
  private final Clock clock;
  private final NvmlGpuSource gpus;
  private final ManagedChannel channel;
  private final ScheduledExecutorService scheduler;
  private final ScheduledExecutorService uplinkTimers;
  private final IngestUplink uplink;
  private final AtomicLong samplingCycles = new AtomicLong();
  private volatile boolean closed;

  private Agent(AgentConfig config, Clock clock, NvmlGpuSource gpus, ManagedChannel channel,
      ScheduledExecutorService scheduler, ScheduledExecutorService uplinkTimers, IngestUplink uplink) {
    this.config = config;
    this.clock = clock;
    this.gpus = gpus;
    this.channel = channel;
    this.scheduler = scheduler;
    this.uplinkTimers = uplinkTimers;
    this.uplink = uplink;
  }

  /**
   * Opens the sources, connects to the collector and starts sampling.
   *
   * @throws io.gpuwarden.nvml.NvmlException when NVML cannot be loaded or initialised
   * @throws IllegalStateException when the boot id cannot be read
   */
  public static Agent start(AgentConfig config) {
    Clock clock = Clock.systemUTC();
    String bootId = HostIdentity.bootId(config.bootIdFile());
    NvmlGpuSource gpus = NvmlGpuSource.open(config.nvmlLibrary(), clock);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(daemon("gpuwarden-sampler"));
    // Reconnect timers run apart from sampling so that they keep working while close() flushes.
    ScheduledExecutorService uplinkTimers = Executors.newSingleThreadScheduledExecutor(daemon("gpuwarden-uplink"));
    ManagedChannel channel = NettyChannelBuilder.forTarget(config.collectorTarget())
        .usePlaintext()
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .build();
    AgentHello hello = AgentHello.newBuilder()
        .setNodeId(config.nodeId())
        .setPool(config.pool())
        .setCluster(config.cluster())
        .putAllLabels(config.labels())
        .setBootId(bootId)
        .setAgentVersion(AgentVersion.get())
        .setInventory(Inventory.newBuilder().setDriver(gpus.driver()).addAllGpus(gpus.inventory()))
        .setStreamId(UUID.randomUUID().toString())
        .setAgentStartedAt(ProtoTime.of(clock.instant()))
        .setSampleInterval(Duration.newBuilder()
            .setSeconds(config.sampleInterval().getSeconds())
            .setNanos(config.sampleInterval().getNano()))
        .build();
    IngestUplink uplink = new IngestUplink(channel, hello, uplinkTimers,
        new Backoff(config.reconnectInitialBackoff(), config.reconnectMaxBackoff(), () -> ThreadLocalRandom.current().nextDouble()),
        config.unackedBatchLimit());
    Agent agent = new Agent(config, clock, gpus, channel, scheduler, uplinkTimers, uplink);
    log.info("gpuwarden agent " + AgentVersion.get() + " node=" + config.nodeId() + " pool=" + config.pool()
        + " boot=" + bootId + ": " + gpus.inventory().size() + " GPUs (driver " + gpus.driver().getDriverVersion()
        + ", CUDA " + gpus.driver().getCudaDriverVersion() + "), collector " + config.collectorTarget()
        + ", sampling every " + config.sampleInterval().toMillis() + "ms");
    uplink.start();
    long period = config.sampleInterval().toNanos();
    scheduler.scheduleAtFixedRate(agent::sampleOnce, 0, period, TimeUnit.NANOSECONDS);
    return agent;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  private void sampleOnce() {
    try {
      TelemetryBatch batch = TelemetryBatch.newBuilder()
          .setSampleTime(ProtoTime.of(clock.instant()))
          .addAllGpuSamples(gpus.sample())
          .addAllEvents(gpus.drainEvents())
          .build();
      if (!closed) {
        uplink.submit(batch);
      }
      samplingCycles.incrementAndGet();
    } catch (RuntimeException e) {
      // One bad cycle must not cancel the periodic task (a thrown exception would).
      log.log(Level.SEVERE, "sampling cycle failed", e);
    }
  }

  /** Returns the configuration. */
  public AgentConfig config() {
    return config;
  }

  /** Returns the uplink, for status and tests. */
  public IngestUplink uplink() {
    return uplink;
  }

  /** Returns how many sampling cycles completed. */
  public long samplingCycles() {
    return samplingCycles.get();
  }

  /**
   * Stops sampling, waits up to 5 s for the collector to acknowledge what was sampled, then closes
   * the stream, the channel and NVML. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      if (!uplink.flush(FLUSH_TIMEOUT)) {
        log.warning("shutting down with " + uplink.unackedCount() + " batches the collector did not acknowledge");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    uplink.close();
    uplinkTimers.shutdownNow();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
    gpus.close();
    log.info("agent stopped after " + samplingCycles.get() + " sampling cycles; last sequence " + uplink.lastSequence()
        + ", acknowledged " + uplink.acknowledgedSequence());
  }
}
