package io.gpuwarden.agent.source.nvml;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.FieldRequest;
import io.gpuwarden.nvml.FieldValue;
import io.gpuwarden.nvml.FabricHealthSummary;
import io.gpuwarden.nvml.GpuFabricInfo;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.MemoryInfo;
import io.gpuwarden.nvml.MemoryLocation;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlDevice;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.nvml.NvmlFieldId;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Reads every counter of one GPU into a {@link GpuSample}. Runs on the GPU's lane (see
 * {@link GpuLanes}). NOT_SUPPORTED leaves a field unset; any other failure leaves it unset and is
 * returned in {@link Result#failures()}; {@code GPU_IS_LOST} stops the read and marks the GPU lost.
 *
 * <p>Older drivers lack some calls and field ids. A missing call falls back to its older form in
 * the bindings; a field id the driver does not know comes back {@code INVALID_ARGUMENT} in its entry
 * (the recovery action, field 230, before R565), which is read like NOT_SUPPORTED (the field's own
 * function where it has one, else unset) and logged once, not reported as a failing read.
 *
 * <p>The fields split in two: those read every time, and the <em>detail</em> — slow-changing or
 * costly (NVLink state and error counters, 6 calls per link; retired pages; PCIe maxima; power
 * limit; ECC and persistence mode). Given the previous result, a read copies the detail from it
 * (values and failures alike) instead of calling NVML for it.
 */
final class GpuReader {
  /** Read every time in one call; the order is relied on by {@link #readEveryTime}. */
  private static final List<FieldRequest> HEALTH_FIELDS = List.of(
      FieldRequest.of(NvmlFieldId.ECC_SBE_VOLATILE_TOTAL), FieldRequest.of(NvmlFieldId.ECC_DBE_VOLATILE_TOTAL),
      FieldRequest.of(NvmlFieldId.ECC_SBE_AGGREGATE_TOTAL), FieldRequest.of(NvmlFieldId.ECC_DBE_AGGREGATE_TOTAL),
      FieldRequest.of(NvmlFieldId.RETIRED_PENDING), FieldRequest.of(NvmlFieldId.PCIE_REPLAY_COUNTER),
      FieldRequest.of(NvmlFieldId.REMAPPED_CORRECTED), FieldRequest.of(NvmlFieldId.REMAPPED_UNCORRECTED),
      FieldRequest.of(NvmlFieldId.REMAPPED_PENDING), FieldRequest.of(NvmlFieldId.REMAPPED_FAILURE),
      FieldRequest.of(NvmlFieldId.GPU_RECOVERY_ACTION));
  /** The NVLink error totals over all links, one per counter the per-link reads take. */
  private static final List<FieldRequest> NVLINK_TOTAL_FIELDS = List.of(
      FieldRequest.of(NvmlFieldId.NVLINK_REPLAY_ERROR_COUNT_TOTAL),
      FieldRequest.of(NvmlFieldId.NVLINK_RECOVERY_ERROR_COUNT_TOTAL),
      FieldRequest.of(NvmlFieldId.NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL),
      FieldRequest.of(NvmlFieldId.NVLINK_CRC_DATA_ERROR_COUNT_TOTAL),
      FieldRequest.of(NvmlFieldId.NVLINK_ECC_DATA_ERROR_COUNT_TOTAL));

  private static final Logger log = Logger.getLogger(GpuReader.class.getName());

  private final Clock clock;
  /** The entries (field and scope) this driver answered INVALID_ARGUMENT, each logged once. */
  private final Set<Long> unknownEntries = ConcurrentHashMap.newKeySet();

  /**
   * What one read produced.
   *
   * @param sample every field, the detail included
   * @param failures every failing read, by what failed
   * @param detail the detail fields alone, to carry forward
   * @param detailFailures the detail's failing reads alone, to carry forward
   * @param nvlinkTotals the NVLink error totals the detail's per-link counters go with
   */
  record Result(GpuSample sample, Map<String, String> failures, GpuSample detail, Map<String, String> detailFailures,
      NvlinkTotals nvlinkTotals) {}

  /**
   * The GPU's NVLink error totals over all links (the five {@code *_ERROR_COUNT_TOTAL} fields), as
   * read with the per-link counters they summarise; {@link #NONE} when not read or not supported.
   * While they stay the same the per-link counters cannot have moved, so they are not read again.
   */
  record NvlinkTotals(List<Long> values) {
    static final NvlinkTotals NONE = new NvlinkTotals(List.of());

    boolean known() {
      return !values.isEmpty();
    }
  }

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
   * Reads the fields read every time, and the detail too when {@code readDetail} or when there is no
   * {@code previous} (the last result of a read of this GPU that was not lost); otherwise the detail
   * of {@code previous} is carried forward.
   */
  Result read(GpuInfo info, NvmlDevice d, Result previous, boolean readDetail) {
    GpuSample.Builder s = GpuSample.newBuilder().setGpuUuid(info.getUuid()).setIndex(info.getIndex())
        .setTime(ProtoTime.of(clock.instant()));
    Map<String, String> failures = new LinkedHashMap<>();
    GpuSample detail = GpuSample.getDefaultInstance();
    Map<String, String> detailFailures = Map.of();
    NvlinkTotals totals = NvlinkTotals.NONE;
    try {
      readEveryTime(d, s, failures);
      if (previous != null && !readDetail) {
        detail = previous.detail();
        detailFailures = previous.detailFailures();
        totals = previous.nvlinkTotals();
      } else {
        GpuSample.Builder fresh = GpuSample.newBuilder();
        Map<String, String> freshFailures = new LinkedHashMap<>();
        try {
          totals = readDetail(d, fresh, freshFailures, previous);
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
    return new Result(s.build(), failures, detail, detailFailures, totals);
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
    // ECC totals, pending retirements, PCIe replays, row remapping and the recovery action: one call.
    List<FieldValue> f = fields(d, HEALTH_FIELDS, failures, "health-fields");
    field(d, failures, "ecc", f.get(0), v -> s.setEccCorrectedVolatile(v.longValue()),
        () -> d.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.VOLATILE), s::setEccCorrectedVolatile);
    field(d, failures, "ecc", f.get(1), v -> s.setEccUncorrectedVolatile(v.longValue()),
        () -> d.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.VOLATILE), s::setEccUncorrectedVolatile);
    field(d, failures, "ecc", f.get(2), v -> s.setEccCorrectedAggregate(v.longValue()),
        () -> d.totalEccErrors(MemoryErrorType.CORRECTED, EccCounterType.AGGREGATE), s::setEccCorrectedAggregate);
    field(d, failures, "ecc", f.get(3), v -> s.setEccUncorrectedAggregate(v.longValue()),
        () -> d.totalEccErrors(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE), s::setEccUncorrectedAggregate);
    field(d, failures, "retired-pages-pending", f.get(4), v -> s.setRetiredPagesPending(v.longValue() != 0),
        d::retiredPagesPending, s::setRetiredPagesPending);
    field(d, failures, "pcie-replay", f.get(5), v -> s.setPcieReplayCount((int) v.longValue()),
        d::pcieReplayCounter, s::setPcieReplayCount);
    remappedRows(d, s, failures, f.subList(6, 10));
    field(d, failures, "recovery-action", f.get(10),
        v -> s.setRecoveryAction(recovery(io.gpuwarden.nvml.GpuRecoveryAction.fromCode(v.longValue()))),
        () -> NvmlReading.<GpuRecoveryAction>notSupported("nvmlDeviceGetFieldValues"), s::setRecoveryAction);
    get(failures, "ecc-sram", () -> d.memoryErrorCounter(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE,
        MemoryLocation.SRAM), s::setEccUncorrectedAggregateSram);
    get(failures, "ecc-dram", () -> d.memoryErrorCounter(MemoryErrorType.UNCORRECTED, EccCounterType.AGGREGATE,
        MemoryLocation.DRAM), s::setEccUncorrectedAggregateDram);
    get(failures, "clock-event-reasons", d::clockEventReasons, s::setClockEventReasons);
    get(failures, "pcie-link", d::pcieLinkGeneration, s::setPcieLinkGeneration);
    get(failures, "pcie-link", d::pcieLinkWidth, s::setPcieLinkWidth);
    get(failures, "pstate", d::performanceState, s::setPerformanceState);
    get(failures, "fabric", d::fabricInfo, (GpuFabricInfo f2) -> s.setFabric(fabric(f2)));
  }

  /** The four remapping fields together, or {@code nvmlDeviceGetRemappedRows} when the fields are not supported. */
  private static void remappedRows(NvmlDevice d, GpuSample.Builder s, Map<String, String> failures, List<FieldValue> f) {
    if (f.stream().anyMatch(FieldValue::isUnsupported)) {
      get(failures, "remapped-rows", d::remappedRows, (RemappedRows r) -> s
          .setRemappedRowsCorrected(r.corrected()).setRemappedRowsUncorrected(r.uncorrected())
          .setRemapPending(r.pending()).setRemapFailure(r.failure()));
      return;
    }
    for (FieldValue v : f) {
      if (!v.isSuccess()) {
        fieldFailed(d, failures, "remapped-rows", v);
        return;
      }
    }
    s.setRemappedRowsCorrected((int) f.get(0).value().orElseThrow().longValue())
        .setRemappedRowsUncorrected((int) f.get(1).value().orElseThrow().longValue())
        .setRemapPending(f.get(2).value().orElseThrow().longValue() != 0)
        .setRemapFailure(f.get(3).value().orElseThrow().longValue() != 0);
  }

  private NvlinkTotals readDetail(NvmlDevice d, GpuSample.Builder s, Map<String, String> failures, Result previous) {
    get(failures, "power-limit", d::enforcedPowerLimitMilliwatts, s::setPowerLimitMilliwatts);
    get(failures, "ecc-mode", d::eccMode, m -> s.setEccEnabled(m.current()));
    get(failures, "retired-pages", () -> d.retiredPages(PageRetirementCause.MULTIPLE_SINGLE_BIT_ECC_ERRORS),
        l -> s.setRetiredPagesSbe(l.size()));
    get(failures, "retired-pages", () -> d.retiredPages(PageRetirementCause.DOUBLE_BIT_ECC_ERROR),
        l -> s.setRetiredPagesDbe(l.size()));
    get(failures, "pcie-link-max", d::pcieLinkGenerationMax, s::setPcieLinkGenerationMax);
    get(failures, "pcie-link-max", d::pcieLinkWidthMax, s::setPcieLinkWidthMax);
    get(failures, "persistence-mode", d::persistenceMode, s::setPersistenceMode);
    NvmlReading<Integer> links = guarded(failures, "nvlink", d::nvlinkLinkCount);
    if (links == null || !links.isSupported()) {
      return NvlinkTotals.NONE;
    }
    return readNvlinks(d, links.value(), s, failures, previous);
  }

  /**
   * Reads every link's state and the five error totals in one call; the per-link error counters (5
   * calls a link) only when the totals changed since {@code previous} or could not be read, else
   * they are carried from {@code previous}. A link whose state field is not supported is asked with
   * {@code nvmlDeviceGetNvLinkState}.
   */
  private NvlinkTotals readNvlinks(NvmlDevice d, int links, GpuSample.Builder s, Map<String, String> failures,
      Result previous) {
    List<FieldRequest> requests = new ArrayList<>(links + NVLINK_TOTAL_FIELDS.size());
    for (int link = 0; link < links; link++) {
      requests.add(new FieldRequest(NvmlFieldId.NVLINK_GET_STATE, link));
    }
    requests.addAll(NVLINK_TOTAL_FIELDS);
    List<FieldValue> f = fields(d, requests, failures, "nvlink");
    List<Long> totalValues = new ArrayList<>(NVLINK_TOTAL_FIELDS.size());
    for (FieldValue v : f.subList(links, f.size())) {
      if (v.isSuccess()) {
        totalValues.add(v.value().orElseThrow().longValue());
      }
    }
    NvlinkTotals totals = totalValues.size() == NVLINK_TOTAL_FIELDS.size() ? new NvlinkTotals(List.copyOf(totalValues))
        : NvlinkTotals.NONE;
    Map<Integer, NvlinkSample> carried = new java.util.HashMap<>();
    if (totals.known() && previous != null && totals.equals(previous.nvlinkTotals())
        && !previous.detailFailures().containsKey("nvlink-errors")) {
      previous.detail().getNvlinksList().forEach(n -> carried.put(n.getLink(), n));
    }
    for (int link = 0; link < links; link++) {
      int l = link;
      FieldValue state = f.get(link);
      Boolean active;
      if (state.isSuccess()) {
        active = state.value().orElseThrow().longValue() != 0;
      } else if (state.isUnsupported()) {
        NvmlReading<Boolean> r = guarded(failures, "nvlink", () -> d.nvlinkState(l));
        active = r == null || !r.isSupported() ? null : r.value();
      } else {
        fieldFailed(d, failures, "nvlink", state);
        active = null;
      }
      if (active == null) {
        continue;
      }
      NvlinkSample kept = carried.get(l);
      if (kept != null) {
        s.addNvlinks(kept.toBuilder().setActive(active));
        continue;
      }
      NvlinkSample.Builder n = NvlinkSample.newBuilder().setLink(l).setActive(active);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_REPLAY), n::setReplayErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_RECOVERY), n::setRecoveryErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_CRC_FLIT), n::setCrcFlitErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_CRC_DATA), n::setCrcDataErrors);
      get(failures, "nvlink-errors", () -> d.nvlinkErrorCounter(l, NvlinkErrorCounter.DL_ECC_DATA), n::setEccDataErrors);
      s.addNvlinks(n);
    }
    return totals;
  }

  /**
   * One {@code nvmlDeviceGetFieldValues} call; GPU_IS_LOST stops the read. When the call as a whole
   * fails otherwise, the failure is recorded under {@code what} and every entry reads as not
   * supported, so each value falls back to its own function.
   */
  private List<FieldValue> fields(NvmlDevice d, List<FieldRequest> requests, Map<String, String> failures,
      String what) {
    try {
      List<FieldValue> values = d.fieldValues(requests);
      for (FieldValue v : values) {
        if (v.result() == NvmlReturn.INVALID_ARGUMENT) {
          noteUnknown(v);
        }
      }
      return values;
    } catch (NvmlException e) {
      if (e.returnCode() == NvmlReturn.GPU_IS_LOST) {
        throw new Lost(e);
      }
      failures.putIfAbsent(what, e.getMessage());
      return requests.stream().map(r -> new FieldValue(r.fieldId(), r.scopeId(), 0, 0, NvmlReturn.NOT_SUPPORTED,
          java.util.Optional.<Number>empty())).toList();
    }
  }

  /** Logs, once per field and scope, that the driver does not know an entry it was asked for. */
  private void noteUnknown(FieldValue v) {
    if (unknownEntries.add(((long) v.fieldId() << 32) | (v.scopeId() & 0xFFFFFFFFL))) {
      log.info("NVML field " + v.fieldId() + (v.scopeId() != 0 ? " (scope " + v.scopeId() + ")" : "")
          + " is unknown to this driver (INVALID_ARGUMENT in its entry): read as not supported, not judged");
    }
  }

  /**
   * One entry: its value when it has one; its own function ({@code fallback}) when the driver cannot
   * answer the field (NOT_SUPPORTED, or INVALID_ARGUMENT for a field id it does not know); a failure
   * under {@code what} when it failed.
   */
  private static <T> void field(NvmlDevice d, Map<String, String> failures, String what, FieldValue v,
      Consumer<Number> sink, Supplier<NvmlReading<T>> fallback, Consumer<T> fallbackSink) {
    if (v.isSuccess()) {
      sink.accept(v.value().orElseThrow());
    } else if (v.isUnsupported()) {
      get(failures, what, fallback, fallbackSink);
    } else {
      fieldFailed(d, failures, what, v);
    }
  }

  private static void fieldFailed(NvmlDevice d, Map<String, String> failures, String what, FieldValue v) {
    NvmlException e = d.fieldFailure(v);
    if (e.returnCode() == NvmlReturn.GPU_IS_LOST) {
      throw new Lost(e);
    }
    failures.putIfAbsent(what, e.getMessage());
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
