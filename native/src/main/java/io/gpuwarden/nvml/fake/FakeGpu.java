package io.gpuwarden.nvml.fake;

import io.gpuwarden.nvml.ClockEventReason;
import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.EccCounterType;
import io.gpuwarden.nvml.FabricHealthSummary;
import io.gpuwarden.nvml.FabricState;
import io.gpuwarden.nvml.GpuRecoveryAction;
import io.gpuwarden.nvml.MemoryErrorType;
import io.gpuwarden.nvml.MemoryLocation;
import io.gpuwarden.nvml.NvlinkErrorCounter;
import io.gpuwarden.nvml.NvmlReturn;
import io.gpuwarden.nvml.PageRetirementCause;
import io.gpuwarden.nvml.RetiredPage;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One GPU of a {@link FakeNvmlState}: its {@code gpu.<index>.<key>} settings and
 * {@code gpu.<index>.fail.<function>} faults, in file order. Keys the typed builder methods do
 * not cover yet go through {@link Builder#set(String, Object)}.
 *
 * <pre>{@code
 * FakeGpu gpu = FakeGpu.builder(0).name("NVIDIA H100 80GB HBM3").temperatureCelsius(35)
 *         .fail("nvmlDeviceGetPowerUsage", NvmlReturn.GPU_IS_LOST).build();
 * }</pre>
 *
 * @param index the NVML index, 0..n-1
 * @param settings key (without {@code gpu.<index>.}) to value
 * @param faults NVML function name to error name, e.g. {@code nvmlDeviceGetTemperatureV -> NOT_SUPPORTED}
 */
public record FakeGpu(int index, Map<String, String> settings, Map<String, String> faults) {

    public FakeGpu {
        if (index < 0 || index >= FakeNvmlState.MAX_GPUS) {
            throw new IllegalArgumentException("GPU index " + index + " is outside 0.." + (FakeNvmlState.MAX_GPUS - 1));
        }
        settings = FakeNvmlState.checkedEntries(settings, "gpu." + index + ".");
        faults = FakeNvmlState.checkedEntries(faults, "gpu." + index + ".fail.");
        if (settings.keySet().stream().anyMatch(key -> key.startsWith("fail."))) {
            throw new IllegalArgumentException("gpu." + index + ": put fail.* keys in faults, not settings");
        }
    }

    /** A builder for the GPU at {@code index}, with no keys set (the fake's defaults apply). */
    public static Builder builder(int index) {
        return new Builder(index);
    }

    /** A builder holding this GPU's keys. */
    public Builder toBuilder() {
        Builder builder = new Builder(index);
        builder.settings.putAll(settings);
        builder.faults.putAll(faults);
        return builder;
    }

    /** The value of {@code gpu.<index>.<key>}, if set. */
    public Optional<String> setting(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    /** Builds a {@link FakeGpu}; each setter replaces an earlier value of the same key. */
    public static final class Builder {
        private final int index;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final Map<String, String> faults = new LinkedHashMap<>();

        private Builder(int index) {
            this.index = index;
        }

        /** Any key, for ones this builder has no method for yet; {@code value} is rendered with toString. */
        public Builder set(String key, Object value) {
            settings.put(Objects.requireNonNull(key, "key"), String.valueOf(Objects.requireNonNull(value, "value")));
            return this;
        }

        /** Makes {@code function} return {@code error} (an NVML error name such as {@code GPU_IS_LOST}) for this GPU. */
        public Builder fail(String function, String error) {
            faults.put(Objects.requireNonNull(function, "function"), Objects.requireNonNull(error, "error"));
            return this;
        }

        /** Makes {@code function} return {@code error} for this GPU. */
        public Builder fail(String function, NvmlReturn error) {
            return fail(function, error.name());
        }

        /** Removes an injected fault. */
        public Builder clearFault(String function) {
            faults.remove(function);
            return this;
        }

        /** Removes a setting (e.g. {@code hang_ms}), so the fake's default applies again. */
        public Builder clear(String key) {
            settings.remove(key);
            return this;
        }

        public Builder name(String name) {
            return set("name", name);
        }

        public Builder uuid(String uuid) {
            return set("uuid", uuid);
        }

        public Builder serial(String serial) {
            return set("serial", serial);
        }

        /** E.g. {@code 00000000:18:00.0}. */
        public Builder pciBusId(String busId) {
            return set("pci_bus_id", busId);
        }

        /** {@code (device id << 16) | vendor id}, e.g. {@code 0x233010DE}. */
        public Builder pciDeviceId(int pciDeviceId) {
            return set("pci_device_id", hex(pciDeviceId));
        }

        public Builder pciSubsystemId(int pciSubsystemId) {
            return set("pci_subsystem_id", hex(pciSubsystemId));
        }

        public Builder temperatureCelsius(int celsius) {
            return set("temperature_c", celsius);
        }

        public Builder powerUsageMilliwatts(long milliwatts) {
            return set("power_mw", milliwatts);
        }

        public Builder powerLimitMilliwatts(long milliwatts) {
            return set("power_limit_mw", milliwatts);
        }

        public Builder utilization(int gpuPercent, int memoryPercent) {
            return set("utilization_gpu", gpuPercent).set("utilization_memory", memoryPercent);
        }

        /** Memory in bytes; free is what remains ({@code total - reserved - used}). */
        public Builder memory(long totalBytes, long reservedBytes, long usedBytes) {
            return set("memory_total_bytes", Long.toUnsignedString(totalBytes))
                    .set("memory_reserved_bytes", Long.toUnsignedString(reservedBytes))
                    .set("memory_used_bytes", Long.toUnsignedString(usedBytes));
        }

        public Builder clockMhz(ClockType type, int mhz) {
            String key = switch (type) {
                case GRAPHICS -> "clock_graphics_mhz";
                case SM -> "clock_sm_mhz";
                case MEMORY -> "clock_mem_mhz";
                case VIDEO -> "clock_video_mhz";
            };
            return set(key, mhz);
        }

        /** Makes the entries for {@code fieldId} in {@code nvmlDeviceGetFieldValues} answer {@code error}. */
        public Builder failField(int fieldId, NvmlReturn error) {
            return set("fail_field." + Integer.toUnsignedString(fieldId), error.name());
        }

        /** ECC on or off now and after the next reset; off makes the ECC counters NOT_SUPPORTED. */
        public Builder eccMode(boolean enabled) {
            return set("ecc_mode", onOff(enabled)).set("ecc_mode_pending", onOff(enabled));
        }

        /** ECC now and after the next reset differ: a mode change waits for a reset. */
        public Builder eccMode(boolean current, boolean pending) {
            return set("ecc_mode", onOff(current)).set("ecc_mode_pending", onOff(pending));
        }

        /** One location's ECC count; unset totals are the sum of their locations. */
        public Builder eccErrors(EccCounterType counter, MemoryErrorType type, MemoryLocation location, long count) {
            return set(eccKey(counter, type, location.name()), Long.toUnsignedString(count));
        }

        /** Makes one location's ECC counter answer {@code error} (e.g. NOT_SUPPORTED for a location the GPU lacks). */
        public Builder eccErrors(EccCounterType counter, MemoryErrorType type, MemoryLocation location,
                NvmlReturn error) {
            return set(eccKey(counter, type, location.name()), error.name());
        }

        /** The ECC total {@code nvmlDeviceGetTotalEccErrors} reports, whatever the locations add up to. */
        public Builder eccTotal(EccCounterType counter, MemoryErrorType type, long count) {
            return set(eccKey(counter, type, "total"), Long.toUnsignedString(count));
        }

        private static String eccKey(EccCounterType counter, MemoryErrorType type, String location) {
            return ("ecc." + counter.name() + "." + type.name() + "." + location).toLowerCase(Locale.ROOT);
        }

        /** The pages retired for {@code cause}; a timestamp of 0 is written as none. */
        public Builder retiredPages(PageRetirementCause cause, List<RetiredPage> pages) {
            String key = cause == PageRetirementCause.DOUBLE_BIT_ECC_ERROR ? "retired_pages_dbe" : "retired_pages_sbe";
            String value = pages.isEmpty() ? "none" : pages.stream()
                    .map(page -> "0x" + Long.toHexString(page.address())
                            + (page.timestampMicros() == 0 ? "" : "@" + Long.toUnsignedString(page.timestampMicros())))
                    .collect(Collectors.joining(", "));
            return set(key, value);
        }

        public Builder retiredPagesPending(boolean pending) {
            return set("retired_pages_pending", pending);
        }

        public Builder remappedRows(int corrected, int uncorrected, boolean pending, boolean failure) {
            return set("remapped_rows_corrected", corrected).set("remapped_rows_uncorrected", uncorrected)
                    .set("remapped_rows_pending", pending).set("remapped_rows_failure", failure);
        }

        /** The clock event reason mask, e.g. {@code 0x1} (idle). */
        public Builder clockEventReasons(long mask) {
            return set("clock_event_reasons", "0x" + Long.toHexString(mask));
        }

        public Builder clockEventReasons(ClockEventReason... reasons) {
            EnumSet<ClockEventReason> set = EnumSet.noneOf(ClockEventReason.class);
            set.addAll(List.of(reasons));
            return clockEventReasons(ClockEventReason.encode(set));
        }

        public Builder pcieReplayCounter(long count) {
            return set("pcie_replay_counter", count);
        }

        /** The PCIe generation and width the link runs at now, e.g. {@code (5, 8)} for a degraded x8 link. */
        public Builder pcieLink(int generation, int width) {
            return set("pcie_link_gen", generation).set("pcie_link_width", width);
        }

        /** The PCIe generation and width the link could run at, e.g. {@code (5, 16)}. */
        public Builder pcieLinkMax(int generation, int width) {
            return set("pcie_link_gen_max", generation).set("pcie_link_width_max", width);
        }

        /** How many NVLinks the GPU has (H100 SXM: 18); 0 for none, which makes NVLink queries NOT_SUPPORTED. */
        public Builder nvlinkCount(int links) {
            return set("nvlink_link_count", links);
        }

        public Builder nvlinkUp(int link, boolean up) {
            return set("nvlink." + link + ".state", up ? "up" : "down");
        }

        public Builder nvlinkErrors(int link, NvlinkErrorCounter counter, long count) {
            String name = counter.name().substring("DL_".length()).toLowerCase(Locale.ROOT);
            return set("nvlink." + link + "." + name, Long.toUnsignedString(count));
        }

        public Builder persistenceMode(boolean enabled) {
            return set("persistence_mode", onOff(enabled));
        }

        /** 0..15, or 32 for unknown. */
        public Builder performanceState(int pstate) {
            return set("pstate", pstate);
        }

        /** Fabric registration state and its result. */
        public Builder fabric(FabricState state, NvmlReturn status) {
            return set("fabric_state", known(state.name(), state == FabricState.UNKNOWN))
                    .set("fabric_status", status.name());
        }

        public Builder fabricCliqueId(int cliqueId) {
            return set("fabric_clique_id", Integer.toUnsignedString(cliqueId));
        }

        /** E.g. {@code 4a0a2c5e-6d55-4bd4-9a3c-0f1e2d3c4b5a}. */
        public Builder fabricClusterUuid(String uuid) {
            return set("fabric_cluster_uuid", uuid);
        }

        /** The fabric health mask (see {@link io.gpuwarden.nvml.FabricHealthField}) and summary. */
        public Builder fabricHealth(int healthMask, FabricHealthSummary summary) {
            return set("fabric_health_mask", "0x" + Integer.toHexString(healthMask))
                    .set("fabric_health_summary", known(summary.name(), summary == FabricHealthSummary.UNKNOWN));
        }

        /** 2 imitates a driver without fabric info v3: v3 requests get ARGUMENT_VERSION_MISMATCH. */
        public Builder fabricInfoMaxVersion(int version) {
            return set("fabric_info_max_version", version);
        }

        public Builder recoveryAction(GpuRecoveryAction action) {
            return set("recovery_action", known(action.name(), action == GpuRecoveryAction.UNKNOWN));
        }

        /** A raw recovery action code, e.g. one newer than {@link GpuRecoveryAction} knows. */
        public Builder recoveryAction(int code) {
            return set("recovery_action", Integer.toUnsignedString(code));
        }

        /** The {@link io.gpuwarden.nvml.NvmlEventType} bits the GPU supports; registering others is NOT_SUPPORTED. */
        public Builder supportedEventTypes(long mask) {
            return set("supported_event_types", "0x" + Long.toHexString(mask));
        }

        /** Every call for this GPU, and finding it, answers GPU_IS_LOST. */
        public Builder lost(boolean lost) {
            return set("lost", lost);
        }

        /**
         * The GPU fell off the bus: it is no longer counted or found, later GPUs' indexes move down
         * by one, and its existing handles answer GPU_IS_LOST.
         */
        public Builder vanished(boolean vanished) {
            return set("vanished", vanished);
        }

        /** Every call for this GPU blocks this long before answering; remove the key to end a hang early. */
        public Builder hangMillis(long millis) {
            return set("hang_ms", millis);
        }

        /** Calls of {@code function} for this GPU block this long before answering. */
        public Builder hang(String function, long millis) {
            return set("hang." + Objects.requireNonNull(function, "function"), millis);
        }

        private static String onOff(boolean enabled) {
            return enabled ? "on" : "off";
        }

        private static String known(String name, boolean unknown) {
            if (unknown) {
                throw new IllegalArgumentException("UNKNOWN has no value to write; pass the raw code instead");
            }
            return name;
        }

        public FakeGpu build() {
            return new FakeGpu(index, settings, faults);
        }

        private static String hex(int value) {
            return String.format(Locale.ROOT, "0x%08X", value);
        }
    }
}
