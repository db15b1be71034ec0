package io.gpuwarden.nvml;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the build put the fake NVML and where the test JVM's fake reads its state: native/pom.xml
 * passes the directories as system properties and sets GPUWARDEN_FAKE_NVML_STATE for the forked
 * JVM. Tests change the fake by rewriting that one file.
 */
final class FakeNvmlEnvironment {

    private FakeNvmlEnvironment() {
    }

    static Path fakeDirectory() {
        return Path.of(required(System.getProperty("gpuwarden.fakeNvmlDir"), "system property gpuwarden.fakeNvmlDir"));
    }

    static Path library() {
        return fakeDirectory().resolve("libnvidia-ml.so.1");
    }

    /**
     * The synthetic legacy build (FAKE_NVML.md): R580 without the five newer calls, so that every
     * fallback runs at once. Real older drivers are the profiles ({@code FakeDriverProfile}).
     */
    static Path legacyLibrary() {
        return fakeDirectory().resolve("legacy").resolve("libnvidia-ml.so.1");
    }

    static Path layoutProgram() {
        return fakeDirectory().resolve("nvml_layout");
    }

    static Path stateFile() {
        return Path.of(required(System.getenv("GPUWARDEN_FAKE_NVML_STATE"), "environment variable GPUWARDEN_FAKE_NVML_STATE"));
    }

    /** Where the fake writes its diagnostics (GPUWARDEN_FAKE_NVML_LOG); grows across the whole test run. */
    static Path logFile() {
        return Path.of(required(System.getenv("GPUWARDEN_FAKE_NVML_LOG"), "environment variable GPUWARDEN_FAKE_NVML_LOG"));
    }

    /** The current end of the log, to read what a test caused with {@link #logSince(long)}. */
    static long logPosition() throws IOException {
        return Files.exists(logFile()) ? Files.size(logFile()) : 0;
    }

    static String logSince(long position) throws IOException {
        if (!Files.exists(logFile())) {
            return "";
        }
        byte[] all = Files.readAllBytes(logFile());
        return new String(all, (int) position, all.length - (int) position, StandardCharsets.UTF_8);
    }

    static Path example(String name) {
        Path nativeDir = Path.of(required(System.getProperty("gpuwarden.nativeDir"), "system property gpuwarden.nativeDir"));
        return nativeDir.resolve("examples").resolve(name + ".state");
    }

    static FakeNvmlState healthyH100Node() {
        return FakeNvmlState.parse(example("h100-8gpu-healthy"));
    }

    static void install(FakeNvmlState state) {
        state.writeAtomically(stateFile());
    }

    static Nvml open() {
        return Nvml.open(library());
    }

    private static String required(String value, String what) {
        return Objects.requireNonNull(value, () -> what + " is not set; run the tests through Maven (native/pom.xml)");
    }
}
