package io.gpuwarden.nvml.fake;

import io.gpuwarden.nvml.NvmlEventType;
import io.gpuwarden.nvml.NvmlReturn;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The contents of a state file for the fake {@code libnvidia-ml.so.1} ({@code native/FAKE_NVML.md}):
 * node-wide settings, {@code fail.<function>} faults and the GPUs. Immutable; change it through
 * {@link #toBuilder()} and write the result with {@link #writeAtomically(Path)}, which the fake
 * picks up on its next call.
 *
 * <pre>{@code
 * FakeNvmlState state = FakeNvmlState.example("h100-8gpu-healthy");
 * state.toBuilder().gpu(3, gpu -> gpu.fail("nvmlDeviceGetPowerUsage", NvmlReturn.GPU_IS_LOST))
 *         .build().writeAtomically(stateFile);
 * }</pre>
 *
 * <p>This class checks syntax (keys, contiguous GPU indexes), not meaning: the fake itself
 * validates values and warns about keys it does not know.
 *
 * @param settings node-wide key to value, e.g. {@code driver_version -> 580.65.06}
 * @param faults NVML function name to error name, for every GPU
 * @param gpus the GPUs, index i at position i
 */
public record FakeNvmlState(Map<String, String> settings, Map<String, String> faults, List<FakeGpu> gpus) {

    /** As many GPUs as the fake has handle slots for. */
    public static final int MAX_GPUS = 64;

    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.]*");
    private static final Pattern GPU_KEY = Pattern.compile("gpu\\.(0|[1-9][0-9]{0,2})\\.(.+)");
    private static final String EXAMPLES = "/io/gpuwarden/nvml/fake/examples/";
    private static final Pattern EVENT_KEY = Pattern.compile("event\\.(0|[1-9][0-9]{0,9})");
    /** The names the fake accepts in {@code type=}, by event type bit. */
    private static final Map<Long, String> EVENT_TYPE_NAMES = Map.ofEntries(
            Map.entry(NvmlEventType.SINGLE_BIT_ECC_ERROR, "single_bit_ecc"),
            Map.entry(NvmlEventType.DOUBLE_BIT_ECC_ERROR, "double_bit_ecc"),
            Map.entry(NvmlEventType.PSTATE, "pstate"),
            Map.entry(NvmlEventType.XID_CRITICAL_ERROR, "xid"),
            Map.entry(NvmlEventType.CLOCK, "clock"),
            Map.entry(NvmlEventType.POWER_SOURCE_CHANGE, "power_source_change"),
            Map.entry(NvmlEventType.MIG_CONFIG_CHANGE, "mig_config_change"),
            Map.entry(NvmlEventType.SINGLE_BIT_ECC_ERROR_STORM, "single_bit_ecc_storm"),
            Map.entry(NvmlEventType.DRAM_RETIREMENT_EVENT, "dram_retirement"),
            Map.entry(NvmlEventType.DRAM_RETIREMENT_FAILURE, "dram_retirement_failure"),
            Map.entry(NvmlEventType.NON_FATAL_POISON_ERROR, "non_fatal_poison"),
            Map.entry(NvmlEventType.FATAL_POISON_ERROR, "fatal_poison"),
            Map.entry(NvmlEventType.GPU_UNAVAILABLE_ERROR, "gpu_unavailable"),
            Map.entry(NvmlEventType.GPU_RECOVERY_ACTION, "gpu_recovery_action"));

    public FakeNvmlState {
        settings = checkedEntries(settings, "");
        faults = checkedEntries(faults, "fail.");
        for (String key : settings.keySet()) {
            if (key.startsWith("gpu.") || key.startsWith("fail.")) {
                throw new IllegalArgumentException("'" + key + "' belongs in gpus or faults, not settings");
            }
        }
        gpus = List.copyOf(gpus);
        for (int i = 0; i < gpus.size(); i++) {
            if (gpus.get(i).index() != i) {
                throw new IllegalArgumentException("GPU indexes must run 0..n-1 without gaps; position " + i
                        + " holds gpu." + gpus.get(i).index());
            }
        }
    }

    /** An empty state: no GPUs, the fake's default versions. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding everything in this state. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        builder.settings.putAll(settings);
        builder.faults.putAll(faults);
        gpus.forEach(gpu -> builder.gpus.put(gpu.index(), gpu));
        return builder;
    }

    /** The GPU at {@code index}. */
    public FakeGpu gpu(int index) {
        return gpus.get(index);
    }

    /** One more than the largest {@code event.<id>} in this state (0 when there are none): the id for the next event. */
    public long nextEventId() {
        long next = 0;
        for (String key : settings.keySet()) {
            Matcher matcher = EVENT_KEY.matcher(key);
            if (matcher.matches()) {
                next = Math.max(next, Long.parseLong(matcher.group(1)) + 1);
            }
        }
        return next;
    }

    private static String eventTypeName(long eventType) {
        return EVENT_TYPE_NAMES.getOrDefault(eventType, "0x" + Long.toHexString(eventType));
    }

    /** A node-wide value, if set. */
    public Optional<String> setting(String key) {
        return Optional.ofNullable(settings.get(key));
    }

    /**
     * The driver profile this state is for ({@code driver_profile}), if it names one. The fake's
     * {@code nvmlInit} fails with {@code LIB_RM_VERSION_MISMATCH} in any other profile's library.
     */
    public Optional<FakeDriverProfile> driverProfile() {
        return setting("driver_profile").map(branch -> FakeDriverProfile.ofBranch(Integer.parseInt(branch)));
    }

    /**
     * The build of the fake this state runs on, under {@code fakeNvmlDirectory} (e.g.
     * {@code native/target/fake-nvml}): its profile's library, or the default library (the newest
     * profile) when the state names none.
     */
    public Path library(Path fakeNvmlDirectory) {
        return driverProfile().map(profile -> profile.library(fakeNvmlDirectory))
                .orElseGet(() -> fakeNvmlDirectory.resolve(FakeDriverProfile.LIBRARY_FILE).toAbsolutePath().normalize());
    }

    /** The state file text. */
    public String render() {
        StringBuilder text = new StringBuilder();
        text.append("# gpuwarden fake NVML state (native/FAKE_NVML.md). Replace this file atomically.\n");
        settings.forEach((key, value) -> line(text, key, value));
        faults.forEach((function, error) -> line(text, "fail." + function, error));
        for (FakeGpu gpu : gpus) {
            text.append('\n');
            String prefix = "gpu." + gpu.index() + ".";
            gpu.settings().forEach((key, value) -> line(text, prefix + key, value));
            gpu.faults().forEach((function, error) -> line(text, prefix + "fail." + function, error));
        }
        return text.toString();
    }

    private static void line(StringBuilder text, String key, String value) {
        text.append(key).append(" = ").append(value).append('\n');
    }

    /**
     * Replaces {@code file} with {@link #render()} so that a reader sees the old file or the new
     * one, never a mixture: the text goes to a temporary file in the same directory, which is then
     * renamed over {@code file}. The new file's modification time is made later than the old
     * one's, so a reader comparing (inode, size, mtime) notices even two writes within one
     * filesystem timestamp tick.
     */
    public void writeAtomically(Path file) {
        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, "." + target.getFileName(), ".tmp");
            Files.writeString(temporary, render(), StandardCharsets.UTF_8);
            trySetReadableByAll(temporary);
            Files.setLastModifiedTime(temporary, FileTime.from(laterThanExisting(target)));
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            temporary = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write fake NVML state " + target, e);
        } finally {
            deleteQuietly(temporary);
        }
    }

    private static Instant laterThanExisting(Path target) throws IOException {
        Instant now = Instant.now();
        if (!Files.exists(target)) {
            return now;
        }
        Instant previous = Files.getLastModifiedTime(target).toInstant();
        Instant next = previous.plus(1, ChronoUnit.MICROS);
        return now.isAfter(next) ? now : next;
    }

    private static void trySetReadableByAll(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: its default permissions are what we get.
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // The write already failed; that failure is the one to report.
            }
        }
    }

    /** Reads a state file. */
    public static FakeNvmlState parse(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fake NVML state " + file, e);
        }
    }

    /** Parses state file text. */
    public static FakeNvmlState parse(String text) {
        return parse(text, "state");
    }

    /**
     * One of the state files shipped in {@code native/examples}, by name without {@code .state}:
     * {@code h100-8gpu-healthy}, {@code h100-8gpu-degraded}, {@code h100-8gpu-unhealthy},
     * {@code h100-8gpu-driver-not-loaded}, {@code h100-8gpu-temperature-not-supported}.
     */
    public static FakeNvmlState example(String name) {
        String resource = EXAMPLES + name + ".state";
        try (InputStream in = FakeNvmlState.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no example state " + name + " (" + resource + ")");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static FakeNvmlState parse(String text, String origin) {
        Builder state = builder();
        Map<Integer, FakeGpu.Builder> gpus = new TreeMap<>();
        Set<String> seen = new HashSet<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String where = origin + ":" + (i + 1);
            String line = (i == 0 ? stripByteOrderMark(lines[i]) : lines[i]).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int equals = line.indexOf('=');
            if (equals < 0) {
                throw new IllegalArgumentException(where + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, equals).strip();
            String value = line.substring(equals + 1).strip();
            if (!seen.add(key)) {
                throw new IllegalArgumentException(where + ": key '" + key + "' is set twice");
            }
            try {
                apply(state, gpus, key, value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
            }
        }
        gpus.values().forEach(gpu -> state.gpu(gpu.build()));
        try {
            return state.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
    }

    private static void apply(Builder state, Map<Integer, FakeGpu.Builder> gpus, String key, String value) {
        if (key.startsWith("gpu.")) {
            Matcher matcher = GPU_KEY.matcher(key);
            if (!matcher.matches()) {
                throw new IllegalArgumentException("'" + key + "' is not gpu.<index>.<key>");
            }
            int index = Integer.parseInt(matcher.group(1));
            if (index >= MAX_GPUS) {
                throw new IllegalArgumentException("GPU index " + index + " is outside 0.." + (MAX_GPUS - 1));
            }
            FakeGpu.Builder gpu = gpus.computeIfAbsent(index, FakeGpu::builder);
            String rest = matcher.group(2);
            if (rest.startsWith("fail.")) {
                gpu.fail(rest.substring("fail.".length()), value);
            } else {
                gpu.set(rest, value);
            }
        } else if (key.startsWith("fail.")) {
            state.fail(key.substring("fail.".length()), value);
        } else {
            state.set(key, value);
        }
    }

    private static String stripByteOrderMark(String line) {
        return line.startsWith("\uFEFF") ? line.substring(1) : line;
    }

    /** Copies entries in order, checking that each renders as one parseable line. */
    static Map<String, String> checkedEntries(Map<String, String> entries, String prefix) {
        Map<String, String> copy = new LinkedHashMap<>();
        entries.forEach((key, value) -> {
            if (key == null || !KEY.matcher(key).matches()) {
                throw new IllegalArgumentException("invalid key '" + prefix + key + "'");
            }
            Objects.requireNonNull(value, () -> prefix + key);
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || !value.equals(value.strip())) {
                throw new IllegalArgumentException("value of " + prefix + key
                        + " must be one line without surrounding spaces: '" + value + "'");
            }
            copy.put(key, value);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** Builds a {@link FakeNvmlState}; each setter replaces an earlier value of the same key. */
    public static final class Builder {
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final Map<String, String> faults = new LinkedHashMap<>();
        private final Map<Integer, FakeGpu> gpus = new TreeMap<>();

        private Builder() {
        }

        /** Any node-wide key, for ones this builder has no method for yet. */
        public Builder set(String key, Object value) {
            settings.put(Objects.requireNonNull(key, "key"), String.valueOf(Objects.requireNonNull(value, "value")));
            return this;
        }

        /**
         * Makes the state one of {@code profile}'s nodes: sets {@code driver_profile} and the
         * profile's driver, NVML and CUDA versions. Run it with {@link FakeNvmlState#library(Path)}.
         */
        public Builder driverProfile(FakeDriverProfile profile) {
            set("driver_profile", profile.branch());
            driverVersion(profile.driverVersion());
            nvmlVersion(profile.nvmlVersion());
            return cudaDriverVersion(profile.cudaDriverVersion());
        }

        /** E.g. {@code 580.65.06}; its branch must be the library's profile (see {@link #driverProfile}). */
        public Builder driverVersion(String version) {
            return set("driver_version", version);
        }

        /** E.g. {@code 13.580.65.06}. */
        public Builder nvmlVersion(String version) {
            return set("nvml_version", version);
        }

        /** NVML's encoding, e.g. 12040 for CUDA 12.4. */
        public Builder cudaDriverVersion(int encoded) {
            return set("cuda_driver_version", encoded);
        }

        /** Makes every {@code nvmlInit*} return {@code error}, e.g. {@link NvmlReturn#DRIVER_NOT_LOADED}. */
        public Builder initError(NvmlReturn error) {
            return set("init_error", error.name());
        }

        /** Makes {@code function} return {@code error} (an NVML error name) everywhere. */
        public Builder fail(String function, String error) {
            faults.put(Objects.requireNonNull(function, "function"), Objects.requireNonNull(error, "error"));
            return this;
        }

        /** Makes {@code function} return {@code error} everywhere. */
        public Builder fail(String function, NvmlReturn error) {
            return fail(function, error.name());
        }

        /** Removes a node-wide setting such as {@code init_error}. */
        public Builder clear(String key) {
            settings.remove(key);
            return this;
        }

        /** Removes a node-wide fault. */
        public Builder clearFault(String function) {
            faults.remove(function);
            return this;
        }

        /** Calls of {@code function} block this long before answering, for every GPU (and for system calls). */
        public Builder hang(String function, long millis) {
            return set("hang." + Objects.requireNonNull(function, "function"), millis);
        }

        /**
         * Adds event {@code id}: an event set registered for {@code eventType} on GPU {@code gpu}
         * (its index in the state file) delivers it once, if the id is larger than every id the
         * file held when the set was created and than the last id the set delivered; so take ids
         * from {@link FakeNvmlState#nextEventId()}.
         */
        public Builder event(long id, int gpu, long eventType, long eventData) {
            return set(eventKey(id), "gpu=" + gpu + " type=" + eventTypeName(eventType) + " data="
                    + Long.toUnsignedString(eventData));
        }

        /** As {@link #event(long, int, long, long)}, attributed to a MIG GPU instance and compute instance. */
        public Builder event(long id, int gpu, long eventType, long eventData, int gpuInstanceId,
                int computeInstanceId) {
            return set(eventKey(id), "gpu=" + gpu + " type=" + eventTypeName(eventType) + " data="
                    + Long.toUnsignedString(eventData) + " gi=" + Integer.toUnsignedString(gpuInstanceId)
                    + " ci=" + Integer.toUnsignedString(computeInstanceId));
        }

        /** Adds an Xid event: {@code event.<id> = gpu=<gpu> type=xid data=<xid>}. */
        public Builder xid(long id, int gpu, long xid) {
            return event(id, gpu, NvmlEventType.XID_CRITICAL_ERROR, xid);
        }

        private static String eventKey(long id) {
            if (id < 0 || id > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("event id " + id + " is outside 0..4294967295");
            }
            return "event." + id;
        }

        /** Adds {@code gpu}, replacing any GPU with the same index. */
        public Builder gpu(FakeGpu gpu) {
            gpus.put(gpu.index(), Objects.requireNonNull(gpu, "gpu"));
            return this;
        }

        /** Edits the GPU at {@code index}, starting from an empty one if there is none yet. */
        public Builder gpu(int index, UnaryOperator<FakeGpu.Builder> edit) {
            FakeGpu current = gpus.get(index);
            FakeGpu.Builder builder = current != null ? current.toBuilder() : FakeGpu.builder(index);
            return gpu(edit.apply(builder).build());
        }

        public FakeNvmlState build() {
            List<FakeGpu> ordered = new ArrayList<>(gpus.values());
            return new FakeNvmlState(settings, faults, ordered);
        }
    }
}
