package io.gpuwarden.nvml.fake;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The driver branches the fake {@code libnvidia-ml.so.1} imitates ({@code native/FAKE_NVML.md},
 * "Driver profiles"): each profile is a build of the fake that exports and answers only what that
 * branch's NVML does, and answers with one release's version strings. The facts here mirror
 * {@code native/src/main/c/fake_profile.h}; the library is the authority, these let tests name a
 * profile, find its library and write state files for it.
 *
 * <pre>{@code
 * FakeNvmlState state = FakeNvmlState.example("h100-8gpu-healthy").toBuilder()
 *         .driverProfile(FakeDriverProfile.R550).build();
 * Path library = FakeDriverProfile.R550.library(fakeNvmlDirectory);
 * }</pre>
 */
public enum FakeDriverProfile {
    /** R535 (CUDA 12.2, NVML 12.535): no {@code nvmlDeviceGetTemperatureV}, fabric info v1 only, fields below 197. */
    R535(535, "535.216.03", "12.535.216.03", 12020, false, 0, 197, 0x19FL),
    /** R550 (CUDA 12.4, NVML 12.550): fabric info v2 (health mask), fields below 200, no recovery action. */
    R550(550, "550.54.15", "12.550.54.15", 12040, false, 2, 200, 0x19FL),
    /** R570 (CUDA 12.8, NVML 12.570): {@code nvmlDeviceGetTemperatureV}, recovery action (field 230), fabric info v2. */
    R570(570, "570.172.08", "12.570.172.08", 12080, true, 2, 251, 0xFF9FL),
    /** R580 (CUDA 13.0, NVML 13.580): fabric info v3 (health summary). */
    R580(580, "580.65.06", "13.580.65.06", 13000, true, 3, 274, 0xFF9FL);

    /** The profile {@code target/fake-nvml/libnvidia-ml.so.1} (the default library) is built as. */
    public static final FakeDriverProfile NEWEST = R580;

    /** The file name of every build of the fake: the soname. */
    public static final String LIBRARY_FILE = "libnvidia-ml.so.1";

    private final int branch;
    private final String driverVersion;
    private final String nvmlVersion;
    private final int cudaDriverVersion;
    private final boolean temperatureV;
    private final int fabricInfoVersion;
    private final int fieldIdLimit;
    private final long eventTypes;

    FakeDriverProfile(int branch, String driverVersion, String nvmlVersion, int cudaDriverVersion,
            boolean temperatureV, int fabricInfoVersion, int fieldIdLimit, long eventTypes) {
        this.branch = branch;
        this.driverVersion = driverVersion;
        this.nvmlVersion = nvmlVersion;
        this.cudaDriverVersion = cudaDriverVersion;
        this.temperatureV = temperatureV;
        this.fabricInfoVersion = fabricInfoVersion;
        this.fieldIdLimit = fieldIdLimit;
        this.eventTypes = eventTypes;
    }

    /** The driver branch, e.g. 550; also the value of the state file's {@code driver_profile} key. */
    public int branch() {
        return branch;
    }

    /** What {@code nvmlSystemGetDriverVersion} answers, e.g. {@code 550.54.15}. */
    public String driverVersion() {
        return driverVersion;
    }

    /** What {@code nvmlSystemGetNVMLVersion} answers, e.g. {@code 12.550.54.15}. */
    public String nvmlVersion() {
        return nvmlVersion;
    }

    /** What {@code nvmlSystemGetCudaDriverVersion_v2} answers, e.g. 12040 for CUDA 12.4. */
    public int cudaDriverVersion() {
        return cudaDriverVersion;
    }

    /** Whether the branch's library exports {@code nvmlDeviceGetTemperatureV}. */
    public boolean hasTemperatureV() {
        return temperatureV;
    }

    /**
     * The newest {@code nvmlGpuFabricInfo} version {@code nvmlDeviceGetGpuFabricInfoV} takes (2: health
     * mask, 3: health summary), or 0 where the library lacks the call and only the v1
     * {@code nvmlDeviceGetGpuFabricInfo} answers.
     */
    public int fabricInfoVersion() {
        return fabricInfoVersion;
    }

    /**
     * The branch's {@code NVML_FI_MAX} as the fake answers it: field ids at or above it are unknown to
     * the driver and answer {@code NVML_ERROR_INVALID_ARGUMENT} per entry. Exact for R535 and R550; a
     * lower bound for R570 and R580.
     */
    public int fieldIdLimit() {
        return fieldIdLimit;
    }

    /** Whether the driver knows field {@code fieldId}. */
    public boolean knowsField(int fieldId) {
        return fieldId >= 0 && fieldId < fieldIdLimit;
    }

    /** The event type bits the driver knows (its {@code nvmlEventTypeAll}). */
    public long eventTypes() {
        return eventTypes;
    }

    /** The directory of this profile's build under the fake's output directory, e.g. {@code driver-550}. */
    public String directoryName() {
        return "driver-" + branch;
    }

    /** This profile's {@code libnvidia-ml.so.1} under {@code fakeNvmlDirectory} (e.g. {@code native/target/fake-nvml}). */
    public Path library(Path fakeNvmlDirectory) {
        return Objects.requireNonNull(fakeNvmlDirectory, "fakeNvmlDirectory").resolve(directoryName())
                .resolve(LIBRARY_FILE).toAbsolutePath().normalize();
    }

    /** The profile of branch {@code branch}. */
    public static FakeDriverProfile ofBranch(int branch) {
        for (FakeDriverProfile profile : values()) {
            if (profile.branch == branch) {
                return profile;
            }
        }
        throw new IllegalArgumentException("no driver profile " + branch + "; the fake has 535, 550, 570 and 580");
    }
}
