package io.gpuwarden.agent;

import io.gpuwarden.agent.check.BuiltInChecks;
import io.gpuwarden.agent.check.CheckRunner;
import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.agent.check.xid.XidDeduplicator;
import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.classify.ClassifierRules;
import io.gpuwarden.agent.classify.LogClassifier;
import io.gpuwarden.agent.logs.KernelLog;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.agent.logs.LogForwarder;
import io.gpuwarden.agent.source.SourceErrorTracker;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import io.gpuwarden.agent.check.xid.XidFloodFilter;
import io.gpuwarden.agent.host.HostIdentity;
import io.gpuwarden.agent.source.nvml.NvmlGpuSource;
import io.gpuwarden.agent.source.nvml.NvmlXidWatcher;
import io.gpuwarden.agent.state.FileStateStore;
import io.gpuwarden.agent.state.StateSnapshot;
import io.gpuwarden.agent.state.StateStore;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.DriverInfo;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.InfinibandPortInfo;
import io.gpuwarden.proto.v1.InfinibandPortSample;
import io.gpuwarden.proto.v1.LogLine;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.logging.Logger;

/**
 * Everything the agent knows how to read and judge on this host, one cycle at a time: NVML
 * samples (hang-proof), NVML Xid events, InfiniBand ports from sysfs, the kernel log and syslog
 * (classified into events; a kernel Xid and NVML's event for the same occurrence count once), and
 * the health checks over them. Used by the daemon
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
  private final InfinibandSysfs infiniband;
  private final KernelLog logs;
  private final XidDeduplicator xidDedupe = new XidDeduplicator(XidDeduplicator.DEFAULT_WINDOW);
  private final SourceErrorTracker ibErrors;
  private final DetailSchedule detail;
  /** Every port as the checks see it: the last counters, the current status. */
  private List<InfinibandPortSample> ports = List.of();
  /** This cycle's port samples as sent: without counters between full reads. */
  private List<InfinibandPortSample> portSamples = List.of();
  private List<InfinibandPortInfo> portInventory = List.of();
  private NvmlGpuSource gpus;
  private NvmlXidWatcher watcher;
  private String nvmlFailure;
  private boolean nvmlAttempted;
  private Instant nextNvmlRetry = Instant.MIN;
  private long inventoryVersion;

  /**
   * What one cycle produced.
   *
   * @param snapshot what the checks saw
   * @param results the checks' results
   * @param forward events to send (Xid floods collapsed)
   * @param infiniband this cycle's sample of every InfiniBand port
   * @param logLines raw log lines to send
   * @param droppedLogLines log lines that qualified for sending but were dropped (rate limit, flood, overwritten)
   */
  public record Cycle(HostSnapshot snapshot, List<CheckResult> results, List<Event> forward,
      List<InfinibandPortSample> infiniband, List<LogLine> logLines, long droppedLogLines) {}

  private HostMonitor(AgentConfig config, Clock clock, String bootId, boolean watchEvents, Runnable onXid,
      StateStore state) {
    this.config = config;
    this.clock = clock;
    this.bootId = bootId;
    this.watchEvents = watchEvents;
    this.onXid = onXid;
    this.state = state;
    this.xidEvents = new XidEvents(config.xidPolicy());
    this.flood = new XidFloodFilter(config.checks().xidFloodWindow());
    this.infiniband = new InfinibandSysfs(config.sysfsRoot());
    this.ibErrors = new SourceErrorTracker("infiniband", clock);
    this.detail = new DetailSchedule(config.detailInterval());
    this.checks = new CheckRunner(BuiltInChecks.create(config.checks(), config.xidPolicy(), state, clock.instant(),
        () -> ports, () -> portInventory));
    this.logs = KernelLog.open(config.logs(), new LogClassifier(rules(config.logs()), xidEvents, this::gpuByPci), state,
        bootId, HostIdentity.bootTime(HostIdentity.PROC_STAT, clock.instant()), clock,
        watchEvents ? KernelLog.Mode.FOLLOW : KernelLog.Mode.ONE_SHOT);
  }

  private static ClassifierRules rules(LogConfig logs) {
    ClassifierRules defaults = ClassifierRules.defaults();
    if (logs.rulesFile().isEmpty()) {
      return defaults;
    }
    try {
      return defaults.overriddenBy(ClassifierRules.load(logs.rulesFile().get()));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read classifier rules " + logs.rulesFile().get() + ": " + e.getMessage(), e);
    }
  }

  private Optional<String> gpuByPci(String busId) {
    for (GpuInfo g : inventory()) {
      if (g.getPciBusId().equalsIgnoreCase(busId)) {
        return Optional.of(g.getUuid());
      }
    }
    return Optional.empty();
  }

  /**
   * Opens the monitor: reads the boot id and tries to open NVML.
   *
   * @param watchEvents wait for NVML Xid events on a thread (the daemon), or not (one-shot check)
   * @param onXid runs after each Xid event arrives
   * @throws IllegalStateException when the boot id cannot be read
   * @throws IllegalArgumentException when the operator's classifier rules cannot be read or are wrong
   */
  public static HostMonitor open(AgentConfig config, Clock clock, boolean watchEvents, Runnable onXid) {
    return start(new HostMonitor(config, clock, HostIdentity.bootId(config.bootIdFile()), watchEvents, onXid,
        FileStateStore.open(config.stateDir())));
  }

  /**
   * Opens the monitor for one check of the host ({@code agent check}) that changes nothing: it reads
   * the state the running agent keeps in the state directory (Xids still active, the first
   * inventory of the boot, kernel-log findings) into a private {@link StateSnapshot} and never
   * writes it back, so a check run against a sample {@code --kmsg} file, another NVML library or a
   * fixture sysfs tree leaves the next check of the real host unaffected. No NVML event watcher.
   *
   * @throws IllegalStateException when the boot id cannot be read
   * @throws IllegalArgumentException when the operator's classifier rules cannot be read or are wrong
   */
  public static HostMonitor openOneShot(AgentConfig config, Clock clock) {
    return start(new HostMonitor(config, clock, HostIdentity.bootId(config.bootIdFile()), false, () -> {},
        StateSnapshot.of(config.stateDir())));
  }

  private static HostMonitor start(HostMonitor m) {
    m.tryOpenNvml();
    m.readInfiniband(m.clock.instant(), true);
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
      // The first failure is the start-up report's (Agent) and agent check's to tell; later changes are logged here.
      if (nvmlAttempted && !e.getMessage().equals(nvmlFailure)) {
        log.warning("NVML unusable: " + e.getMessage() + "; retrying every " + NVML_RETRY.toSeconds() + " s");
      }
      nvmlFailure = e.getMessage();
      nextNvmlRetry = now.plus(NVML_RETRY);
    } finally {
      nvmlAttempted = true;
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

  /** Returns the InfiniBand ports found in sysfs (empty on hosts without InfiniBand). */
  public List<InfinibandPortInfo> infinibandInventory() {
    return portInventory;
  }

  /** Returns one line per log source read. */
  public List<String> logSources() {
    return logs.describe();
  }

  /** Returns one line per configured log source that cannot be read, with why. */
  public List<String> logProblems() {
    return logs.problems();
  }

  /** Returns one line per InfiniBand port with attributes that could not be read in the last sample, with why. */
  public List<String> infinibandProblems() {
    return ports.stream().filter(p -> p.getReadErrorsCount() > 0)
        .map(p -> p.getHca() + "/" + p.getPort() + ": " + String.join("; ", p.getReadErrorsList())).toList();
  }

  /** Returns the log lines forwarded and dropped since start. */
  public LogForwarder logForwarder() {
    return logs.forwarder();
  }

  /** Returns how many Xid events were dropped as the second report (kernel log and NVML) of one occurrence. */
  public long duplicateXids() {
    return xidDedupe.duplicates();
  }

  /**
   * One-shot use ({@code agent check}): waits until the kernel log logged so far has been read, at
   * most {@code max}, so the next {@link #cycle()} judges all of it.
   */
  public void awaitLogsRead(Duration max) throws InterruptedException {
    logs.awaitCaughtUp(max);
  }

  /** Returns the GPU inventory (empty when NVML is unusable). */
  public List<GpuInfo> inventory() {
    return gpus != null ? gpus.inventory() : List.of();
  }

  /** Returns a number that changes whenever the inventory changes (NVML became usable, InfiniBand ports came or went). */
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
    boolean detailDue = detail.due(now);
    if (gpus != null) {
      NvmlGpuSource.Sample s = gpus.sample(detailDue);
      samples = s.gpus();
      count = s.deviceCount();
      now = s.time();
      events.addAll(s.events());
    }
    if (watcher != null) {
      events.addAll(watcher.drain());
    }
    readInfiniband(now, detailDue);
    events.addAll(ibErrors.drainEvents());
    KernelLog.Polled logged = logs.poll();
    events.addAll(logged.events());
    events = xidDedupe.filter(events, clock.instant());
    HostSnapshot snapshot = new HostSnapshot(now, bootId, inventory(), samples, count, events, nvmlFailure());
    List<CheckResult> results = checks.run(snapshot);
    state.flush();
    return new Cycle(snapshot, results, flood.filter(events, now), portSamples, logged.lines(), logged.droppedLines());
  }

  private void readInfiniband(Instant now, boolean withCounters) {
    portSamples = infiniband.sample(now, withCounters);
    ports = infiniband.checkView();
    if (!portSamples.isEmpty() && portSamples.get(0).getCountersCarried()) {
      return; // the listing and the read errors are those of the last full read
    }
    List<String> present = new ArrayList<>();
    for (InfinibandPortSample p : ports) {
      present.add(p.getHca() + "/" + p.getPort());
      Map<String, String> failing = new HashMap<>();
      for (String f : p.getReadErrorsList()) {
        int colon = f.indexOf(": ");
        failing.put(colon > 0 ? f.substring(0, colon) : f, f);
      }
      ibErrors.reconcile(p.getHca() + "/" + p.getPort() + "/", failing, Component.newBuilder()
          .setKind(ComponentKind.COMPONENT_KIND_INFINIBAND_PORT).setHca(p.getHca()).setPort(p.getPort()).build());
    }
    List<String> known = portInventory.stream().map(i -> i.getHca() + "/" + i.getPort()).toList();
    if (!present.equals(known)) {
      portInventory = infiniband.inventory();
      inventoryVersion++;
    }
  }

  /** Stops the log readers and the event watcher and closes NVML. */
  @Override
  public void close() {
    logs.close();
    if (watcher != null) {
      watcher.close();
    }
    if (gpus != null) {
      gpus.close();
    }
    state.flush();
  }
}
