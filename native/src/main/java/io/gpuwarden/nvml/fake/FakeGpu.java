package io.gpuwarden.nvml.fake;

import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.NvmlReturn;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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

        public FakeGpu build() {
            return new FakeGpu(index, settings, faults);
        }

        private static String hex(int value) {
            return String.format(Locale.ROOT, "0x%08X", value);
        }
    }
}
