package io.gpuwarden.agent.source.nvml;

import io.gpuwarden.agent.source.SourceErrorTracker;
import io.gpuwarden.nvml.Nvml;
import io.gpuwarden.nvml.NvmlDevice;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.nvml.NvmlReading;
import io.gpuwarden.nvml.PciInfo;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.DriverInfo;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.common.ProtoTime;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/**
 * The host's GPUs through NVML, hang-proof: opening runs with a deadline, and every sample reads
 * each GPU under a deadline ({@link GpuLanes}), so one hung GPU is reported unresponsive while the
 * others keep being read.
 *
 * <p>Inventory is enumerated once at {@link #open}. A value NVML does not support is left unset; a
 * read that fails is left unset and reported once as a source-error event (and again when it
 * recovers); a GPU answering {@code GPU_IS_LOST} is sampled as lost.
 */
public final class NvmlGpuSource implements AutoCloseable {
  private static final Logger log = Logger.getLogger(NvmlGpuSource.class.getName());
  /** UUID prefix of a GPU that could not be opened at start-up (followed by its index). */
  public static final String PLACEHOLDER_UUID_PREFIX = "GPU-unopened-";
  /** How often an unresponsive GPU is tried again. */
  public static final Duration PROBE_INTERVAL = Duration.ofSeconds(30);
  /** Stuck threads per GPU after which it is no longer probed. */
  public static final int MAX_ABANDONED_PER_GPU = 3;

  private final Nvml nvml;
  private final DriverInfo driver;
  private final List<GpuInfo> inventory;
  private final java.util.concurrent.atomic.AtomicReferenceArray<NvmlDevice> devices;
  private final Clock clock;
  private final SourceErrorTracker errors;
  /** One lane per GPU, in index order, then one for the node-wide device count. */
  private final GpuLanes lanes;
  private final int systemLane;
  private final GpuReader reader;
  /** Each GPU's last read that was not lost, whose detail a cheap read carries forward; null forces a full read. */
  private final java.util.concurrent.atomic.AtomicReferenceArray<GpuReader.Result> previous;

  /** One sample of every GPU. */
  public record Sample(Instant time, List<GpuSample> gpus, OptionalInt deviceCount, List<Event> events) {}

  private NvmlGpuSource(Nvml nvml, DriverInfo driver, List<GpuInfo> inventory, List<NvmlDevice> devices, Clock clock,
      SourceErrorTracker errors, Duration timeout) {
    this.nvml = nvml;
    this.driver = driver;
    this.inventory = inventory;
    this.devices = new java.util.concurrent.atomic.AtomicReferenceArray<>(devices.toArray(new NvmlDevice[0]));
    this.clock = clock;
    this.errors = errors;
    List<String> laneNames = new ArrayList<>();
    for (int i = 0; i < devices.size(); i++) {
      laneNames.add("GPU " + i);
    }
    laneNames.add("NVML device count");
    this.systemLane = devices.size();
    this.lanes = new GpuLanes(laneNames, timeout, PROBE_INTERVAL, MAX_ABANDONED_PER_GPU);
    this.reader = new GpuReader(clock);
    this.previous = new java.util.concurrent.atomic.AtomicReferenceArray<>(devices.size());
  }

  /**
   * Loads NVML ({@code library}, or {@code libnvidia-ml.so.1} from the system library path),
   * initialises it and enumerates the GPUs, all within {@code timeout} per step.
   *
   * @throws NvmlException when NVML cannot be loaded, initialised, or does not answer in time
   */
  public static NvmlGpuSource open(Optional<Path> library, Clock clock, Duration timeout) {
    Nvml nvml = withDeadline("nvmlInit_v2", timeout, () -> Nvml.open(library.orElse(null)));
    try {
      SourceErrorTracker errors = new SourceErrorTracker("nvml", clock);
      DriverInfo driver = withDeadline("nvmlSystemGetDriverVersion", timeout, () -> DriverInfo.newBuilder()
          .setDriverVersion(nvml.driverVersion())
          .setNvmlVersion(nvml.nvmlVersion())
          .setCudaDriverVersion(nvml.cudaDriverVersion().toString())
          .build());
      int count = withDeadline("nvmlDeviceGetCount_v2", timeout, nvml::deviceCount);
      List<GpuInfo> inventory = new ArrayList<>(count);
      List<NvmlDevice> devices = new ArrayList<>(count);
      List<String> unavailable = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int index = i;
        Component indexOnly = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuIndex(i).build();
        try {
          NvmlDevice device = withDeadline("nvmlDeviceGetHandleByIndex_v2(" + i + ")", timeout, () -> nvml.device(index));
          GpuInfo info = withDeadline("describing GPU " + i, timeout, () -> describe(index, device));
          inventory.add(info);
          devices.add(device);
          unavailable.add(null);
        } catch (NvmlException e) {
          // Keep the GPU in the inventory: a GPU that hangs or is lost must count as present-but-failing,
          // not as missing. Its lane starts unresponsive and reopens the handle when it answers again.
          log.warning("GPU " + i + " could not be opened: " + e.getMessage());
          errors.failed("gpu" + i + ".open", indexOnly, "GPU " + i + " could not be opened: " + e.getMessage());
          inventory.add(GpuInfo.newBuilder().setIndex(i).setUuid(PLACEHOLDER_UUID_PREFIX + i).build());
          devices.add(null);
          unavailable.add("opening the GPU: " + e.getMessage());
        }
      }
      NvmlGpuSource source = new NvmlGpuSource(nvml, driver, List.copyOf(inventory), devices, clock, errors, timeout);
      for (int i = 0; i < unavailable.size(); i++) {
        if (unavailable.get(i) != null) {
          source.lanes.markUnresponsive(i, unavailable.get(i), clock.instant());
        }
      }
      return source;
    } catch (RuntimeException e) {
      nvml.close();
      throw e;
    }
  }

  /** Runs {@code call} on a fresh daemon thread, abandoning it if it does not finish in time. */
  private static <T> T withDeadline(String what, Duration timeout, Callable<T> call) {
    FutureTask<T> task = new FutureTask<>(call);
    Thread t = new Thread(task, "gpuwarden-nvml-open");
    t.setDaemon(true);
    t.start();
    try {
      return task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new NvmlException(what, io.gpuwarden.nvml.NvmlReturn.TIMEOUT.code(),
          "did not return within " + timeout.toMillis() + " ms (driver hung?)");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NvmlException(what, io.gpuwarden.nvml.NvmlReturn.TIMEOUT.code(), "interrupted");
    }
  }

  private static GpuInfo describe(int index, NvmlDevice device) {
    GpuInfo.Builder info = GpuInfo.newBuilder().setIndex(index);
    info.setUuid(device.uuid().value());
    device.name().toOptional().ifPresent(info::setName);
    device.serial().toOptional().ifPresent(info::setSerial);
    NvmlReading<PciInfo> pci = device.pciInfo();
    pci.toOptional().ifPresent(p -> info.setPciBusId(p.busId())
        .setPciDeviceId(p.pciDeviceId())
        .setPciSubsystemId(p.pciSubSystemId()));
    device.memoryInfo().toOptional().ifPresent(m -> info.setMemoryTotalBytes(m.totalBytes()));
    device.enforcedPowerLimitMilliwatts().toOptional().ifPresent(info::setPowerLimitMilliwatts);
    return info.build();
  }

  /** Returns the driver, NVML and CUDA versions. */
  public DriverInfo driver() {
    return driver;
  }

  /** Returns every GPU that could be opened, in index order. */
  public List<GpuInfo> inventory() {
    return inventory;
  }

  /** Returns the NVML session, for the event watcher. */
  public Nvml nvml() {
    return nvml;
  }

  /** Returns the devices opened so far, in inventory order (a GPU not yet opened is left out). */
  public List<NvmlDevice> devices() {
    List<NvmlDevice> out = new ArrayList<>();
    for (int i = 0; i < devices.length(); i++) {
      if (devices.get(i) != null) {
        out.add(devices.get(i));
      }
    }
    return out;
  }

  /** Returns how many GPUs are unresponsive now. */
  public int unresponsiveGpus() {
    int count = 0;
    for (int i = 0; i < systemLane; i++) {
      count += lanes.isUnresponsive(i) ? 1 : 0;
    }
    return count;
  }

  /** Reads every GPU's counters, the detail included; see {@link #sample(boolean)}. */
  public Sample sample() {
    return sample(true);
  }

  /**
   * Reads every GPU's counters, plus NVML's device count, each call under the deadline (see
   * {@link GpuLanes}). Never throws for a per-GPU failure; a GPU that did not answer is sampled as
   * unresponsive.
   *
   * @param detail read the detail too (NVLink, retired pages, PCIe maxima, power limit, ECC and
   *     persistence mode); otherwise each GPU's last detail is carried forward, and read only for a
   *     GPU that has none (first read, or after it was lost, failed or unresponsive)
   */
  public Sample sample(boolean detail) {
    Instant now = clock.instant();
    List<Callable<Object>> reads = new ArrayList<>(devices.length() + 1);
    for (int i = 0; i < devices.length(); i++) {
      int index = i;
      GpuInfo info = inventory.get(i);
      reads.add(() -> {
        NvmlDevice device = devices.get(index);
        if (device == null) {
          // Not opened at start-up (it hung or failed then): try again, on this lane, under its deadline.
          device = nvml.device(index);
          devices.set(index, device);
        }
        return reader.read(info, device, previous.get(index), detail);
      });
    }
    reads.add(nvml::deviceCount);
    List<GpuLanes.Outcome<Object>> outcomes = lanes.callAll(reads,
        lane -> lane == systemLane ? "nvmlDeviceGetCount_v2" : "reading the GPU's counters", now);
    List<GpuSample> samples = new ArrayList<>(devices.length());
    for (int i = 0; i < systemLane; i++) {
      GpuInfo info = inventory.get(i);
      Component c = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuIndex(info.getIndex())
          .setGpuUuid(info.getUuid()).setPciBusId(info.getPciBusId()).build();
      String label = "GPU " + info.getIndex() + " " + info.getUuid();
      GpuSample.Builder unavailable = GpuSample.newBuilder().setGpuUuid(info.getUuid()).setIndex(info.getIndex())
          .setTime(ProtoTime.of(now));
      GpuLanes.Outcome<Object> outcome = outcomes.get(i);
      previous.set(i, null);
      if (outcome instanceof GpuLanes.Done<Object> done && done.value() instanceof GpuReader.Result read) {
        samples.add(read.sample());
        if (!read.sample().getLost()) {
          previous.set(i, read);
        }
        Map<String, String> failing = new java.util.HashMap<>();
        read.failures().forEach((what, error) -> failing.put(what, label + ": " + error));
        errors.reconcile(info.getUuid() + ".", failing, c);
      } else if (outcome instanceof GpuLanes.Failed<Object> failed) {
        samples.add(unavailable.setUnavailableReason(String.valueOf(failed.error().getMessage())).build());
        errors.reconcile(info.getUuid() + ".", Map.of("read", label + ": " + failed.error()), c);
      } else if (outcome instanceof GpuLanes.TimedOut<Object> t) {
        samples.add(unavailable.setUnresponsive(true).setUnavailableReason(t.reason()).build());
        errors.reconcile(info.getUuid() + ".", Map.of("responsive", label + " is unresponsive: " + t.reason()), c);
      } else {
        samples.add(unavailable.setUnresponsive(true).setUnavailableReason(describe(outcome)).build());
      }
    }
    OptionalInt count = OptionalInt.empty();
    GpuLanes.Outcome<Object> c = outcomes.get(systemLane);
    if (c instanceof GpuLanes.Done<Object> d && d.value() instanceof Integer n) {
      count = OptionalInt.of(n);
      errors.succeeded("device-count", Component.getDefaultInstance());
    } else {
      errors.failed("device-count", Component.getDefaultInstance(), "nvmlDeviceGetCount_v2: " + describe(c));
    }
    return new Sample(now, samples, count, errors.drainEvents());
  }

  private static String describe(GpuLanes.Outcome<?> o) {
    if (o instanceof GpuLanes.Failed<?> f) {
      return String.valueOf(f.error().getMessage());
    } else if (o instanceof GpuLanes.TimedOut<?> t) {
      return t.reason();
    } else if (o instanceof GpuLanes.Skipped<?> s) {
      return s.reason();
    }
    return "ok";
  }

  /** Stops the lanes and shuts NVML down (skipped while a GPU is hung: the call could hang too). */
  @Override
  public void close() {
    boolean hung = lanes.unresponsiveCount() > 0;
    lanes.close();
    if (hung) {
      log.warning("not calling nvmlShutdown: a GPU is unresponsive and the call could hang");
    } else {
      nvml.close();
    }
  }
}
