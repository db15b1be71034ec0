package io.gpuwarden.agent.source.nvml;

import io.gpuwarden.agent.source.ProtoTime;
import io.gpuwarden.agent.source.SourceErrorTracker;
import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.MemoryInfo;
import io.gpuwarden.nvml.Nvml;
import io.gpuwarden.nvml.NvmlDevice;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.nvml.NvmlReading;
import io.gpuwarden.nvml.PciInfo;
import io.gpuwarden.nvml.Utilization;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.DriverInfo;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuSample;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Reads GPU inventory and counters through NVML.
 *
 * <p>Inventory is enumerated once at {@link #open}; {@link #sample()} reads every GPU's counters.
 * A value NVML does not support on a GPU is left unset; a read that fails is left unset and
 * reported once as a source-error event (and again when it recovers).
 */
public final class NvmlGpuSource implements AutoCloseable {
  private static final Logger log = Logger.getLogger(NvmlGpuSource.class.getName());

  private final Nvml nvml;
  private final DriverInfo driver;
  private final List<Gpu> gpus;
  private final Clock clock;
  private final SourceErrorTracker errors;

  private record Gpu(NvmlDevice device, GpuInfo info, Component component) {}

  private NvmlGpuSource(Nvml nvml, DriverInfo driver, List<Gpu> gpus, Clock clock, SourceErrorTracker errors) {
    this.nvml = nvml;
    this.driver = driver;
    this.gpus = gpus;
    this.clock = clock;
    this.errors = errors;
  }

  /**
   * Loads NVML ({@code library}, or {@code libnvidia-ml.so.1} from the system library path), and
   * enumerates the GPUs.
   *
   * @throws NvmlException when the library cannot be loaded or initialised
   */
  public static NvmlGpuSource open(Optional<Path> library, Clock clock) {
    Nvml nvml = Nvml.open(library.orElse(null));
    try {
      SourceErrorTracker errors = new SourceErrorTracker("nvml", clock);
      DriverInfo driver = DriverInfo.newBuilder()
          .setDriverVersion(nvml.driverVersion())
          .setNvmlVersion(nvml.nvmlVersion())
          .setCudaDriverVersion(nvml.cudaDriverVersion().toString())
          .build();
      int count = nvml.deviceCount();
      List<Gpu> gpus = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        Component indexOnly = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuIndex(i).build();
        try {
          NvmlDevice device = nvml.device(i);
          GpuInfo info = describe(i, device);
          Component component = indexOnly.toBuilder().setGpuUuid(info.getUuid()).setPciBusId(info.getPciBusId()).build();
          gpus.add(new Gpu(device, info, component));
        } catch (NvmlException e) {
          log.warning("GPU " + i + " could not be opened: " + e.getMessage());
          errors.failed("gpu" + i + ".open", indexOnly, e.getMessage());
        }
      }
      return new NvmlGpuSource(nvml, driver, List.copyOf(gpus), clock, errors);
    } catch (RuntimeException e) {
      nvml.close();
      throw e;
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
    return gpus.stream().map(Gpu::info).toList();
  }

  /** Returns the number of GPUs NVML reports now (may differ from the inventory). */
  public int deviceCountNow() {
    return nvml.deviceCount();
  }

  /** Reads every GPU's counters. Never throws for a per-GPU failure. */
  public List<GpuSample> sample() {
    List<GpuSample> out = new ArrayList<>(gpus.size());
    for (Gpu gpu : gpus) {
      out.add(sample(gpu));
    }
    return out;
  }

  /** Returns and clears the source-error events produced by sampling since the last call. */
  public List<Event> drainEvents() {
    return errors.drainEvents();
  }

  private GpuSample sample(Gpu gpu) {
    GpuSample.Builder s = GpuSample.newBuilder()
        .setGpuUuid(gpu.info().getUuid())
        .setIndex(gpu.info().getIndex());
    Instant now = clock.instant();
    s.setTime(ProtoTime.of(now));
    NvmlDevice d = gpu.device();
    read(gpu, "temperature", d::temperatureCelsius, s::setTemperatureCelsius);
    read(gpu, "power", d::powerUsageMilliwatts, s::setPowerMilliwatts);
    read(gpu, "power-limit", d::enforcedPowerLimitMilliwatts, s::setPowerLimitMilliwatts);
    read(gpu, "utilization", d::utilization, (Utilization u) -> s
        .setUtilizationGpuPercent(u.gpuPercent())
        .setUtilizationMemoryPercent(u.memoryPercent()));
    read(gpu, "memory", d::memoryInfo, (MemoryInfo m) -> s
        .setMemoryTotalBytes(m.totalBytes())
        .setMemoryUsedBytes(m.usedBytes())
        .setMemoryFreeBytes(m.freeBytes()));
    read(gpu, "sm-clock", () -> d.clockMhz(ClockType.SM), s::setSmClockMhz);
    read(gpu, "memory-clock", () -> d.clockMhz(ClockType.MEMORY), s::setMemoryClockMhz);
    return s.build();
  }

  private <T> void read(Gpu gpu, String what, Supplier<NvmlReading<T>> call, Consumer<T> sink) {
    String key = gpu.info().getUuid() + "." + what;
    try {
      NvmlReading<T> reading = call.get();
      reading.toOptional().ifPresent(sink);
      errors.succeeded(key, gpu.component());
    } catch (NvmlException e) {
      errors.failed(key, gpu.component(), "GPU " + gpu.info().getIndex() + " " + gpu.info().getUuid() + ": " + e.getMessage());
    }
  }

  /** Shuts NVML down. */
  @Override
  public void close() {
    nvml.close();
  }
}
