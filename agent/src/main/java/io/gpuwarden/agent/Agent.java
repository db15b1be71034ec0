package io.gpuwarden.agent;

import io.gpuwarden.common.Version;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.agent.uplink.Backoff;
import io.gpuwarden.agent.uplink.CollectorTargets;
import io.gpuwarden.agent.uplink.IngestUplink;
import io.gpuwarden.agent.uplink.SendSchedule;
import io.gpuwarden.agent.uplink.Spool;
import io.gpuwarden.agent.uplink.SpoolStats;
import io.gpuwarden.proto.v1.AgentHello;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.Reason;
import io.gpuwarden.proto.v1.SuggestedAction;
import io.gpuwarden.proto.v1.TelemetryBatch;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The running agent: every interval it samples the host, runs the checks and streams the batch to
 * the collector; an NVML Xid event triggers a cycle at once. A watchdog watches the sampling loop:
 * if it stops making progress (a hang the per-GPU deadlines did not catch), the watchdog itself
 * reports the agent's liveness as UNKNOWN to the collector, so a stuck agent is never mistaken for a
 * healthy node.
 *
 * <pre>{@code
 * try (Agent agent = Agent.start(AgentConfig.builder().build())) { ... }
 * }</pre>
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = Logger.getLogger(Agent.class.getName());
  private static final java.time.Duration FLUSH_TIMEOUT = java.time.Duration.ofSeconds(5);
  /** The collector only sends small acknowledgements; anything larger is a wrong peer. */
  private static final int MAX_INBOUND_BYTES = 1024 * 1024;
  /**
   * Largest batch sent; the collector accepts 16 MiB. A batch over it (a flood the rate limits did
   * not catch) loses its raw log lines, then its InfiniBand samples, counted, never the whole batch.
   */
  static final int MAX_BATCH_BYTES = 8 * 1024 * 1024;

  /** Name of the agent's own liveness check. */
  public static final String LIVENESS_CHECK = "agent-liveness";

  private final AgentConfig config;
  private final Clock clock;
  private final HostMonitor monitor;
  private final ManagedChannel channel;
  private final ManagedChannel previewChannel;
  private final ScheduledExecutorService scheduler;
  private final ScheduledExecutorService uplinkTimers;
  private final ScheduledExecutorService watchdog;
  private final IngestUplink uplink;
  private final Spool spool;
  private final SendSchedule sendSchedule;
  /** Each check's state in the last batch made, to send a change at once. */
  private final java.util.Map<String, HealthState> lastStates = new java.util.HashMap<>();
  private final Instant startedAt;
  private final AtomicLong samplingCycles = new AtomicLong();
  private final AtomicBoolean cyclePending = new AtomicBoolean();
  private volatile long lastProgressNanos = System.nanoTime();
  private volatile boolean stalledReported;
  private volatile boolean closed;
  private long helloInventoryVersion;

  private Agent(AgentConfig config, Clock clock, HostMonitor monitor, ManagedChannel channel, Channel uplinkChannel,
      ManagedChannel previewChannel, Channel uplinkPreviewChannel, Spool spool) {
    this.config = config;
    this.clock = clock;
    this.monitor = monitor;
    this.channel = channel;
    this.previewChannel = previewChannel;
    this.spool = spool;
    this.sendSchedule = new SendSchedule(config.sendInterval(), config.sampleInterval());
    this.startedAt = clock.instant();
    this.scheduler = Executors.newSingleThreadScheduledExecutor(daemon("gpuwarden-sampler"));
    // Reconnect timers and the watchdog run apart from sampling: they must work while it is stuck.
    this.uplinkTimers = Executors.newSingleThreadScheduledExecutor(daemon("gpuwarden-uplink"));
    this.watchdog = Executors.newSingleThreadScheduledExecutor(daemon("gpuwarden-watchdog"));
    this.helloInventoryVersion = monitor.inventoryVersion();
    this.uplink = new IngestUplink(uplinkChannel, uplinkPreviewChannel, hello(), uplinkTimers,
        new Backoff(config.reconnectInitialBackoff(), config.reconnectMaxBackoff(), () -> ThreadLocalRandom.current().nextDouble()),
        spool);
  }

  /**
   * Opens the sources, connects to the collector and starts sampling. NVML that cannot be opened
   * is not fatal: it is reported (the node is judged accordingly) and retried.
   *
   * @throws IllegalStateException when the boot id cannot be read
   * @throws IllegalArgumentException when a TLS file or the token file cannot be used
   */
  public static Agent start(AgentConfig config) {
    Clock clock = Clock.systemUTC();
    // Before the host is opened: unusable TLS or token files fail start-up without leaking NVML.
    ManagedChannel channel = config.security()
        .configure(NettyChannelBuilder.forTarget(CollectorTargets.channelTarget(config.collectorTarget())))
        .maxInboundMessageSize(MAX_INBOUND_BYTES)
        // The uplink's callbacks (acks, stream ready, stream end) only take its lock for a moment and
        // never block: run them on the event loop instead of handing each to another thread.
        .directExecutor()
        // A fixed window turns off gRPC's automatic window tuning, which pings the collector on
        // every message read: one small stream does not need it, and each ping wakes both ends.
        .flowControlWindow(NettyChannelBuilder.DEFAULT_FLOW_CONTROL_WINDOW)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .build();
    // Previews go on a connection of their own: a collector that is behind leaves the ingest
    // stream's bytes unread, and with them the whole connection's flow-control window, which a
    // preview on the same connection would wait for. gRPC connects it at the first preview (most
    // agents never send one) and closes it after a minute without any.
    ManagedChannel previewChannel = config.security()
        .configure(NettyChannelBuilder.forTarget(CollectorTargets.channelTarget(config.collectorTarget())))
        .directExecutor()
        .idleTimeout(1, TimeUnit.MINUTES)
        .build();
    Channel uplinkChannel;
    Channel uplinkPreviewChannel;
    try {
      uplinkChannel = config.security().authenticate(channel);
      uplinkPreviewChannel = config.security().authenticate(previewChannel);
    } catch (IllegalArgumentException e) {
      channel.shutdownNow();
      previewChannel.shutdownNow();
      throw e;
    }
    Agent[] self = new Agent[1];
    HostMonitor monitor = HostMonitor.open(config, clock, true, () -> {
      if (self[0] != null) {
        self[0].cycleSoon();
      }
    });
    // The spool continues the stream a previous run left (same id, next sequence, its batches).
    Agent agent = new Agent(config, clock, monitor, channel, uplinkChannel, previewChannel, uplinkPreviewChannel,
        Spool.open(config.spool()));
    self[0] = agent;
    StartupReport report = StartupReport.of(config, monitor, agent.spool.describe());
    log.info(report.summary());
    report.problems().forEach(log::warning);
    agent.uplink.start();
    agent.scheduler.scheduleAtFixedRate(agent::cycle, 0, config.sampleInterval().toNanos(), TimeUnit.NANOSECONDS);
    long watchMillis = watchPeriod(config).toMillis();
    agent.watchdog.scheduleAtFixedRate(agent::watch, watchMillis, watchMillis, TimeUnit.MILLISECONDS);
    return agent;
  }

  private AgentHello hello() {
    return AgentHello.newBuilder()
        .setNodeId(config.nodeId())
        .setPool(config.pool())
        .setCluster(config.cluster())
        .putAllLabels(config.labels())
        .setBootId(monitor.bootId())
        .setAgentVersion(Version.get())
        .setInventory(Inventory.newBuilder().setDriver(monitor.driver()).addAllGpus(monitor.inventory())
            .addAllInfinibandPorts(monitor.infinibandInventory()))
        .setStreamId(spool.streamId())
        .setAgentStartedAt(ProtoTime.of(startedAt))
        .setSampleInterval(ProtoTime.of(config.sampleInterval()))
        .build();
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** Runs an extra cycle as soon as the sampler is free (coalesced: at most one pending). */
  private void cycleSoon() {
    if (!closed && cyclePending.compareAndSet(false, true)) {
      try {
        scheduler.execute(this::cycle);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        cyclePending.set(false);
      }
    }
  }

  private synchronized void cycle() {
    cyclePending.set(false);
    try {
      HostMonitor.Cycle c = monitor.cycle();
      if (monitor.inventoryVersion() != helloInventoryVersion) {
        helloInventoryVersion = monitor.inventoryVersion();
        uplink.updateHello(hello());
      }
      TelemetryBatch batch = batchOf(c, liveness(HealthState.HEALTH_STATE_HEALTHY, ""));
      // Events, state changes and the loop's recovery go at once; the rest waits for the send interval.
      boolean urgent = statesChanged(c.results()) || !c.forward().isEmpty() || stalledReported;
      if (!closed) {
        // An urgent batch behind a backlog (a collector that is behind) is previewed: its verdict does not wait.
        uplink.submit(fitted(batch), sendSchedule.due(System.nanoTime(), urgent, uplink.collectorStaleAfter()), urgent);
      }
      samplingCycles.incrementAndGet();
      lastProgressNanos = System.nanoTime();
      if (stalledReported) {
        stalledReported = false;
        log.info("sampling loop is making progress again");
      }
    } catch (RuntimeException e) {
      // One bad cycle must not cancel the periodic task (a thrown exception would).
      log.log(Level.SEVERE, "sampling cycle failed", e);
    }
  }

  /**
   * Returns the batch the agent sends for one cycle (before its sequence is set): the cycle's GPU
   * and InfiniBand samples, check results with the agent's {@code liveness}, events, log lines and
   * the count of dropped lines. The load generator builds its batches with it too.
   */
  public static TelemetryBatch batchOf(HostMonitor.Cycle c, CheckResult liveness) {
    return TelemetryBatch.newBuilder()
        .setSampleTime(ProtoTime.of(c.snapshot().time()))
        .addAllGpuSamples(c.snapshot().gpus())
        .addAllInfinibandSamples(c.infiniband())
        .addAllCheckResults(c.results())
        .addCheckResults(liveness)
        .addAllEvents(c.forward())
        .addAllLogLines(c.logLines())
        .setDroppedLogLines(c.droppedLogLines())
        .build();
  }

  /** Returns true when a check's state differs from the last batch's (or the check is new); remembers the states. */
  private boolean statesChanged(List<CheckResult> results) {
    boolean changed = false;
    for (CheckResult r : results) {
      changed |= lastStates.put(r.getCheck(), r.getState()) != r.getState();
    }
    return changed;
  }

  /** Returns {@code batch}, or a copy small enough to send: log lines, then InfiniBand samples dropped and counted. */
  static TelemetryBatch fitted(TelemetryBatch batch) {
    if (batch.getSerializedSize() <= MAX_BATCH_BYTES) {
      return batch;
    }
    TelemetryBatch.Builder b = batch.toBuilder().clearLogLines()
        .setDroppedLogLines(batch.getDroppedLogLines() + batch.getLogLinesCount());
    if (b.build().getSerializedSize() > MAX_BATCH_BYTES) {
      b.clearInfinibandSamples().setDroppedSamples(batch.getDroppedSamples() + batch.getInfinibandSamplesCount());
    }
    log.warning("batch of " + batch.getSerializedSize() + " bytes is over " + MAX_BATCH_BYTES + ": dropped its "
        + batch.getLogLinesCount() + " log lines" + (b.getInfinibandSamplesCount() == 0 && batch.getInfinibandSamplesCount() > 0
            ? " and " + batch.getInfinibandSamplesCount() + " InfiniBand samples" : ""));
    return b.build();
  }

  /** How long the loop may go without finishing a cycle before the watchdog reports it. */
  java.time.Duration stallLimit() {
    return stallLimit(config);
  }

  /**
   * Three sampling intervals plus the two NVML deadlines a cycle can spend (a hung GPU's, then the
   * deadline of the GPUs read after it), plus a second.
   */
  static java.time.Duration stallLimit(AgentConfig config) {
    return config.sampleInterval().multipliedBy(3).plus(config.nvmlTimeout().multipliedBy(2)).plusSeconds(1);
  }

  /**
   * How often the watchdog looks: a quarter of the stall limit, at least a second, so a stall is
   * reported at most a quarter late and the watchdog does not wake the host every second for it.
   */
  static java.time.Duration watchPeriod(AgentConfig config) {
    return java.time.Duration.ofMillis(Math.max(1000, stallLimit(config).toMillis() / 4));
  }

  private void watch() {
    long silentNanos = System.nanoTime() - lastProgressNanos;
    if (closed || silentNanos < stallLimit().toNanos() || stalledReported) {
      return;
    }
    stalledReported = true;
    String why = String.format("sampling loop made no progress for %.1f s (limit %.1f s)", silentNanos / 1e9,
        stallLimit().toMillis() / 1000.0);
    log.severe(why + "; reporting the agent's liveness as UNKNOWN");
    try {
      uplink.submit(TelemetryBatch.newBuilder()
          .setSampleTime(ProtoTime.of(clock.instant()))
          .addCheckResults(liveness(HealthState.HEALTH_STATE_UNKNOWN, why))
          .build());
    } catch (IllegalStateException e) {
      // closing
    }
  }

  private CheckResult liveness(HealthState state, String why) {
    CheckResult.Builder r = CheckResult.newBuilder().setCheck(LIVENESS_CHECK).setState(state)
        .setTime(ProtoTime.of(clock.instant()));
    if (state != HealthState.HEALTH_STATE_HEALTHY) {
      r.addReasons(Reason.newBuilder().setCheck(LIVENESS_CHECK).setState(state)
          .setComponent(Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_AGENT))
          .setMessage(why).setAction(SuggestedAction.SUGGESTED_ACTION_REBOOT_NODE)
          .setSince(ProtoTime.of(clock.instant())));
    }
    return r.build();
  }

  /** Returns true while the sampling loop makes progress. */
  public boolean live() {
    return System.nanoTime() - lastProgressNanos < stallLimit().toNanos();
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
   * the stream and writes what is still unacknowledged to the spool's disk for the next start, then
   * closes the channel and NVML. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    watchdog.shutdownNow();
    scheduler.shutdown();
    try {
      if (!scheduler.awaitTermination(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warning("sampling did not stop within " + FLUSH_TIMEOUT.toSeconds() + " s (a hung NVML call?)");
      }
      // Waiting helps only while a collector is there to acknowledge; otherwise the spool keeps them.
      if (uplink.connected() && !uplink.flush(FLUSH_TIMEOUT)) {
        log.warning("shutting down with " + uplink.unackedCount() + " batches the collector did not acknowledge");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    uplink.close(); // closes the spool: unacknowledged batches go to disk
    SpoolStats left = spool.stats();
    if (left.diskBatches() > 0) {
      log.info(left.diskBatches() + " unacknowledged batches left spooled in " + config.spool().directory()
          + " for the next start");
    } else if (left.memoryBatches() > 0) {
      log.warning(left.memoryBatches() + " unacknowledged batches lost: the spool has no usable disk"
          + left.diskProblem().map(p -> " (" + p + ")").orElse(""));
    }
    uplinkTimers.shutdownNow();
    previewChannel.shutdownNow();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
    monitor.close();
    log.info("agent stopped after " + samplingCycles.get() + " sampling cycles; last sequence " + uplink.lastSequence()
        + ", acknowledged " + uplink.acknowledgedSequence());
  }
}
