package io.gpuwarden.agent.source.nvml;

import io.gpuwarden.agent.source.ProtoTime;
import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.FabricHealthSummary;
import io.gpuwarden.nvml.GpuFabricInfo;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.MemoryInfo;
import io.gpuwarden.nvml.MemoryLocation;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlDevice;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.nvml.NvmlReading;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.PageRetirementCause;
import io.gpuwarden.nvml.RemappedRows;
import io.gpuwarden.nvml.Utilization;
import io.gpuwarden.proto.v1.FabricHealth;
import io.gpuwarden.proto.v1.FabricInfo;
import io.gpuwarden.proto.v1.FabricState;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.GpuRecoveryAction;
import io.gpuwarden.proto.v1.GpuSample;
import io.gpuwarden.proto.v1.NvlinkSample;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Reads every counter of one GPU into a {@link GpuSample}. Runs on the GPU's lane (see
 * {@link GpuLanes}). NOT_SUPPORTED leaves a field unset; any other failure leaves it unset and is
 * returned in {@link Result#failures()}; {@code GPU_IS_LOST} stops the read and marks the GPU lost.
 *
 * <p>The fields split in two: those read every time, and the <em>detail</em> — slow-changing or
 * costly (NVLink state and error counters, 6 calls per link; retired pages; PCIe maxima; power
 * limit; ECC and persistence mode). Given the previous result, a read copies the detail from it
 * (values and failures alike) instead of calling NVML for it.
 */
final class GpuReader {
  private final Clock clock;

  /**
   * What one read produced.
   *
   * @param sample every field, the detail included
   * @param failures every failing read, by what failed
   * @param detail the detail fields alone, to carry forward
   * @param detailFailures the detail's failing reads alone, to carry forward
   */
  record Result(GpuSample sample, Map<String, String> failures, GpuSample detail, Map<String, String> detailFailures) {}

  /** Thrown inside a read to stop at the first GPU_IS_LOST. */
  private static final class Lost extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Lost(NvmlException e) {
      super(e.getMessage(), e, false, false);
    }
  }

  GpuReader(Clock clock) {
    this.clock = clock;
  }

  /**
   * Reads the fields read every time, and the detail too unless {@code previous} (the last result of
   * a read of this GPU that was not lost) is given, in which case its detail is carried forward.
   */
  Result read(GpuInfo info, NvmlDevice d, Result previous) {
    GpuSample.Builder s = GpuSample.newBuilder().setGpuUuid(info.getUuid()).setIndex(info.getIndex())
        .setTime(ProtoTime.of(clock.instant()));
    Map<String, String> failures = new LinkedHashMap<>();
    GpuSample detail = GpuSample.getDefaultInstance();
    Map<String, String> detailFailures = Map.of();
    try {
      readEveryTime(d, s, failures);
      if (previous != null) {
        detail = previous.detail();
        detailFailures = previous.detailFailures();
      } else {
        GpuSample.Builder fresh = GpuSample.newBuilder();
        Map<String, String> freshFailures = new LinkedHashMap<>();
        try {
          readDetail(d, fresh, freshFailures);
        } finally { // a loss midway keeps what was read before it
          detail = fresh.build();
          detailFailures = java.util.Collections.unmodifiableMap(freshFailures);
        }
      }
    } catch (Lost e) {
      s.setLost(true).setUnavailableReason(e.getMessage());
    }
    s.mergeFrom(detail);
    detailFailures.forEach(failures::putIfAbsent);
    return new Result(s.build(), failures, detail, detailFailures);
  }

  private void readEveryTime(NvmlDevice d, GpuSample.Builder s, Map<String, String> failures) {
    get(failures, "temperature", d::temperatureCelsius, s::setTemperatureCelsius);
    get(failures, "power", d::powerUsageMilliwatts, s::setPowerMilliwatts);
    get(failures, "utilization", d::utilization, (Utilization u) -> s
        .setUtilizationGpuPercent(u.gpuPercent()).setUtilizationMemoryPercent(u.memoryPercent()));
    get(failures, "memory", d::memoryInfo, (MemoryInfo m) -> s
        .setMemoryTotalBytes(m.totalBytes()).setMemoryUsedBytes(m.usedBytes()).setMemoryFreeBytes(m.freeBytes()));
    get(failures, "sm-clock", () -> d.clockMhz(ClockType.SM), s::setSmClockMhz);
    get(failures, "memory-clock", () -> d.clockMhz(ClockType.MEMORY), s::setMemoryClockMhz);
    get(failures, "ecc", () -> d.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE), s::setEccCorrectedVolatile);
    get(failures, "ecc", () -> d.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE), s::setEccUncorrectedVolatile);
    get(failures, "ecc", () -> d.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE), s::setEccCorrectedAggregate);
    get(failures, "ecc", () -> d.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE), s::setEccUncorrectedAggregate);
    get(failures, "ecc-sram", () -> d.memoryErrorCounter(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE,
        MemoryLocation.SRAM), s::setEccUncorrectedAggregateSram);
    get(failures, "ecc-dram", () -> d.memoryErrorCounter(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE,
        MemoryLocation.DRAM), s::setEccUncorrectedAggregateDram);
    get(failures, "retired-pages-pending", d::retiredPagesPending, s::setRetiredPagesPending);
    get(failures, "remapped-rows", d::remappedRows, (RemappedRows r) -> s
        .setRemappedRowsCorrected(r.corrected()).setRemappedRowsUncorrected(r.uncorrected())
        .setRemapPending(r.pending()).setRemapFailure(r.failure()));
    get(failures, "clock-event-reasons", d::clockEventReasons, s::setClockEventReasons);
    get(failures, "pcie-replay", d::pcieReplayCounter, s::setPcieReplayCount);
    get(failures, "pcie-link", d::pcieLinkGeneration, s::setPcieLinkGeneration);
    get(failures, "pcie-link", d::pcieLinkWidth, s::setPcieLinkWidth);
    get(failures, "pstate", d::performanceState, s::setPerformanceState);
    get(failures, "fabric", d::fabricInfo, (GpuFabricInfo f) -> s.setFabric(fabric(f)));
    get(failures, "recovery-action", d::gpuRecoveryAction, a -> s.setRecoveryAction(recovery(a)));
  }

  private void readDetail(NvmlDevice d, GpuSample.Builder s, Map<String, String> failures) {
    get(failures, "power-limit", d::enforcedPowerLimitMilliwatts, s::setPowerLimitMilliwatts);
    get(failures, "ecc-mode", d::eccMode, m -> s.setEccEnabled(m.current()));
    get(failures, "retired-pages", () -> d.retiredPages(PageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS),
        l -> s.setRetiredPagesSbe(l.size()));
    get(failures, "retired-pages", () -> d.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR),
        l -> s.setRetiredPagesDbe(l.size()));
    get(failures, "pcie-link-max", d::pcieLinkGenerationMax, s::setPcieLinkGenerationMax);
    get(failures, "pcie-link-max", d::pcieLinkWidthMax, s::setPcieLinkWidthMax);
    get(failures, "persistence-mode", d::persistenceMode, s::setPersistenceMode);
    get(failures, "nvlink", d::nvlinkLinkCount, n -> readNvlinks(d, n, s, failures));
  }

  private void readNvlinks(NvmlDevice d, int links, GpuSample.Builder s, Map<String, String> failures) {
    for (int link = 0; link < links; link++) {
      int l = link;
      NvlinkSample.Builder n = NvlinkSample.newBuilder().setLink(l);
      NvmlReading<Boolean> state = guarded(failures, "nvlink", () -> d.nvlinkState(l));
      if (state == null || !state.isSupported()) {
        continue;
      }
      n.setActive(state.value());
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_REPLAY), n::setReplayErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_RECOVERY), n::setRecoveryErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_CRC_FLIT), n::setCrcFlitErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_CRC_DATA), n::setCrcDataErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_ECC_DATA), n::setEccDataErrors);
      s.addNvlinks(n);
    }
  }

  private static <T> void get(Map<String, String> failures, String what, Supplier<NvmlReading<T>> call, Consumer<T> sink) {
    NvmlReading<T> r = guarded(failures, what, call);
    if (r != null && r.isSupported()) {
      sink.accept(r.value());
    }
  }

  private static <T> NvmlReading<T> guarded(Map<String, String> failures, String what, Supplier<NvmlReading<T>> call) {
    try {
      return call.get();
    } catch (NvmlException e) {
      if (e.returnCode() == NvmlReturn.GPU_IS_LOST) {
        throw new Lost(e);
      }
      failures.putIfAbsent(what, e.getMessage());
      return null;
    }
  }

  private static FabricInfo fabric(GpuFabricInfo f) {
    FabricState state = switch (f.state()) {
      case NOT_SUPPORTED -> FabricState.FABRIC_STATE_NOT_SUPPORTED;
      case NOT_STARTED -> FabricState.FABRIC_STATE_NOT_STARTED;
      case IN_PROGRESS -> FabricState.FABRIC_STATE_IN_PROGRESS;
      case COMPLETED -> FabricState.FABRIC_STATE_COMPLETED;
      default -> FabricState.FABRIC_STATE_UNSPECIFIED;
    };
    FabricHealthSummary h = f.healthSummary();
    FabricHealth health = switch (h) {
      case HEALTHY -> FabricHealth.FABRIC_HEALTH_HEALTHY;
      case UNHEALTHY -> FabricHealth.FABRIC_HEALTH_UNHEALTHY;
      case LIMITED_CAPACITY -> FabricHealth.FABRIC_HEALTH_LIMITED_CAPACITY;
      default -> FabricHealth.FABRIC_HEALTH_NOT_SUPPORTED;
    };
    return FabricInfo.newBuilder().setState(state).setStatus(f.status().code()).setStatusName(f.status().constantName())
        .setHealth(health).setHealthMask(f.healthMask()).setCliqueId(f.cliqueId()).setClusterUuid(f.clusterUuid()).build();
  }

  private static GpuRecoveryAction recovery(io.gpuwarden.nvml.GpuRecoveryAction a) {
    return switch (a) {
      case NONE -> GpuRecoveryAction.GPU_RECOVERY_ACTION_NONE;
      case GPU_RESET -> GpuRecoveryAction.GPU_RECOVERY_ACTION_GPU_RESET;
      case NODE_REBOOT -> GpuRecoveryAction.GPU_RECOVERY_ACTION_NODE_REBOOT;
      case DRAIN_P2P -> GpuRecoveryAction.GPU_RECOVERY_ACTION_DRAIN_P2P;
      case DRAIN_AND_RESET -> GpuRecoveryAction.GPU_RECOVERY_ACTION_DRAIN_AND_RESET;
      case RECOVER_IMEX_DOMAIN -> GpuRecoveryAction.GPU_RECOVERY_ACTION_RECOVER_IMEX_DOMAIN;
      default -> GpuRecoveryAction.GPU_RECOVERY_ACTION_UNSPECIFIED;
    };
  }
}
