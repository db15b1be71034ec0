package io.gpuwarden.agent;

import io.gpuwarden.agent.check.BuiltInChecks;
import io.gpuwarden.agent.check.CheckRunner;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidFloodFilter;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.agent.source.nvml.NvmlGpuSource;
import io.gpuwarden.agent.source.nvml.NvmlXidWatcher;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.DriverInfo;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.logging.Logger;

/**
 * Everything the agent knows how to read and judge on this host, one cycle at a time: NVML
 * samples (hang-proof), NVML Xid events, and the health checks over them. Used by the daemon
 * ({@link Agent}) every interval and by {@code agent check} once.
 *
 * <p>When NVML cannot be opened (library missing, driver not loaded, init hanging) the monitor keeps
 * running, reports why in every snapshot, and tries again every {@link #NVML_RETRY}.
 *
 * <p>Not thread-safe: {@link #cycle()} is called from one thread.
 */
public final class HostMonitor implements AutoCloseable {
  private static final Logger log = Logger.getLogger(HostMonitor.class.getName());
  /** How often opening NVML is retried after it failed. */
  public static final Duration NVML_RETRY = Duration.ofSeconds(30);

  private final AgentConfig config;
  private final Clock clock;
  private final String bootId;
  private final boolean watchEvents;
  private final Runnable onXid;
  private final StateStore state;
  private final CheckRunner checks;
  private final XidEvents xidEvents;
  private final XidFloodFilter flood;
  private NvmlGpuSource gpus;
  private NvmlXidWatcher watcher;
  private String nvmlFailure;
  private Instant nextNvmlRetry = Instant.MIN;
  private long inventoryVersion;

  /** What one cycle produced. */
  public record Cycle(HostSnapshot snapshot, List<CheckResult> results, List<Event> forward) {}

  private HostMonitor(AgentConfig config, Clock clock, String bootId, boolean watchEvents, Runnable onXid) {
    this.config = config;
    this.clock = clock;
    this.bootId = bootId;
    this.watchEvents = watchEvents;
    this.onXid = onXid;
    this.state = FileStateStore.open(config.stateDir());
    this.xidEvents = new XidEvents(config.xidPolicy());
    this.flood = new XidFloodFilter(config.checks().xidFloodWindow());
    this.checks = new CheckRunner(BuiltInChecks.create(config.checks(), config.xidPolicy(), state, clock.instant()));
  }

  /**
   * Opens the monitor: reads the boot id and tries to open NVML.
   *
   * @param watchEvents wait for NVML Xid events on a thread (the daemon), or not (one-shot check)
   * @param onXid runs after each Xid event arrives
   * @throws IllegalStateException when the boot id cannot be read
   */
  public static HostMonitor open(AgentConfig config, Clock clock, boolean watchEvents, Runnable onXid) {
    HostMonitor m = new HostMonitor(config, clock, HostIdentity.bootId(config.bootIdFile()), watchEvents, onXid);
    m.tryOpenNvml();
    return m;
  }

  private void tryOpenNvml() {
    Instant now = clock.instant();
    if (gpus != null || now.isBefore(nextNvmlRetry)) {
      return;
    }
    try {
      gpus = NvmlGpuSource.open(config.nvmlLibrary(), clock, config.nvmlTimeout());
      if (nvmlFailure != null) {
        log.info("NVML is usable again");
      }
      nvmlFailure = null;
      inventoryVersion++;
      if (watchEvents) {
        watcher = new NvmlXidWatcher(gpus, xidEvents, clock, onXid);
        watcher.start();
      }
    } catch (NvmlException e) {
      if (!e.getMessage().equals(nvmlFailure)) {
        log.warning("NVML unusable: " + e.getMessage() + "; retrying every " + NVML_RETRY.toSeconds() + " s");
      }
      nvmlFailure = e.getMessage();
      nextNvmlRetry = now.plus(NVML_RETRY);
    }
  }

  /** Returns the boot id. */
  public String bootId() {
    return bootId;
  }

  /** Returns the driver versions, or an empty value when NVML is unusable. */
  public DriverInfo driver() {
    return gpus != null ? gpus.driver() : DriverInfo.getDefaultInstance();
  }

  /** Returns the GPU inventory (empty when NVML is unusable). */
  public List<GpuInfo> inventory() {
    return gpus != null ? gpus.inventory() : List.of();
  }

  /** Returns a number that changes whenever the inventory changes (NVML became usable). */
  public long inventoryVersion() {
    return inventoryVersion;
  }

  /** Returns why NVML is unusable, or empty. */
  public Optional<String> nvmlFailure() {
    return Optional.ofNullable(nvmlFailure);
  }

  /** Returns how many GPUs registered for NVML Xid events (0 without the event watcher). */
  public int xidEventGpus() {
    return watcher != null ? watcher.registeredGpus() : 0;
  }

  /** Returns the names of the checks that run, in order. */
  public List<String> checkNames() {
    return checks.names();
  }

  /** Returns the state store's write error, if any. */
  public Optional<String> stateError() {
    return state.lastError();
  }

  /** Samples, collects events and runs every check once. */
  public Cycle cycle() {
    tryOpenNvml();
    Instant now = clock.instant();
    List<GpuSample> samples = List.of();
    OptionalInt count = OptionalInt.empty();
    List<Event> events = new ArrayList<>();
    if (gpus != null) {
      NvmlGpuSource.Sample s = gpus.sample();
      samples = s.gpus();
      count = s.deviceCount();
      now = s.time();
      events.addAll(s.events());
    }
    if (watcher != null) {
      events.addAll(watcher.drain());
    }
    HostSnapshot snapshot = new HostSnapshot(now, bootId, inventory(), samples, count, events, nvmlFailure());
    List<CheckResult> results = checks.run(snapshot);
    return new Cycle(snapshot, results, flood.filter(events, now));
  }

  /** Stops the event watcher and closes NVML. */
  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
    if (gpus != null) {
      gpus.close();
    }
    state.flush();
  }
}
