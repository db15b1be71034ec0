package io.gpuwarden.nvml;

import static io.gpuwarden.nvml.FakeNvmlEnvironment.install;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.byref.IntByReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NvmlLifecycleTest {

    @BeforeEach
    void installHealthyNode() {
        install(FakeNvmlEnvironment.healthyH100Node());
    }

    @Test
    void opensTheLibraryFileItWasGivenAndReportsTheDriver() {
        try (Nvml nvml = FakeNvmlEnvironment.open()) {
            assertThat(nvml.libraryPath()).isEqualTo(FakeNvmlEnvironment.library().toAbsolutePath().normalize());
            assertThat(nvml.driverVersion()).isEqualTo("580.65.06");
            assertThat(nvml.nvmlVersion()).isEqualTo("13.580.65.06");
            assertThat(nvml.cudaDriverVersion()).isEqualTo(new CudaVersion(13, 0));
            assertThat(nvml.cudaDriverVersion()).hasToString("13.0");
            assertThat(nvml.deviceCount()).isEqualTo(8);
        }
    }

    @Test
    void withoutAPathFindsLibnvidiaMlSo1ThroughTheSystemLoader() throws IOException {
        try (var files = Files.list(FakeNvmlEnvironment.fakeDirectory())) {
            assertThat(files.map(file -> file.getFileName().toString()).filter(name -> name.startsWith("libnvidia-ml")))
                    .as("no unversioned libnvidia-ml.so symlink to lean on")
                    .containsExactly("libnvidia-ml.so.1");
        }
        // The system loader answers the soname with the first libnvidia-ml.so.1 this JVM loaded, which
        // may be another profile's build (DriverProfilesTest), as a real loader would: a state that
        // names no profile runs on any of them.
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().clear("driver_profile").clear("driver_version")
                .clear("nvml_version").clear("cuda_driver_version").build());
        try (Nvml nvml = Nvml.open(null)) {
            assertThat(nvml.libraryPath()).isEqualTo(Path.of("libnvidia-ml.so.1"));
            assertThat(nvml.deviceCount()).isEqualTo(8);
        }
    }

    @Test
    void aMissingLibraryFileIsNamedInTheError(@TempDir Path directory) {
        Path missing = directory.resolve("libnvidia-ml.so.1");

        assertThatThrownBy(() -> Nvml.open(missing))
                .isInstanceOfSatisfying(NvmlLibraryNotFoundException.class, e -> {
                    assertThat(e.pathsTried()).containsExactly(missing.toString());
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.LIBRARY_NOT_FOUND);
                })
                .hasMessage("cannot load the NVML library (tried " + missing + "): no such file");
    }

    @Test
    void aFileTheLoaderRejectsIsReportedWithTheLoadersReason(@TempDir Path directory) throws IOException {
        Path notALibrary = Files.writeString(directory.resolve("libnvidia-ml.so.1"), "not an ELF file\n".repeat(16));

        assertThatThrownBy(() -> Nvml.open(notALibrary))
                .isInstanceOf(NvmlLibraryNotFoundException.class)
                .hasMessageStartingWith("cannot load the NVML library (tried " + notALibrary + "): ")
                .hasMessageContaining(notALibrary.toString() + ":")
                .hasMessageContaining("invalid ELF header");
    }

    @Test
    void aSonameTheSystemLoaderCannotFindNamesTheSearch() {
        assertThatThrownBy(() -> NvmlBinding.loadFromSystem("libnvidia-ml-gpuwarden-absent.so.1"))
                .isInstanceOfSatisfying(NvmlLibraryNotFoundException.class, e -> assertThat(e.pathsTried())
                        .singleElement().asString()
                        .startsWith("libnvidia-ml-gpuwarden-absent.so.1 via the system loader (LD_LIBRARY_PATH="))
                .hasMessageContaining("libnvidia-ml-gpuwarden-absent.so.1: cannot open shared object file");
    }

    @Test
    void anUnloadedDriverFailsOpenWithNvmlsCode() {
        install(FakeNvmlState.parse(FakeNvmlEnvironment.example("h100-8gpu-driver-not-loaded")));

        assertThatThrownBy(FakeNvmlEnvironment::open)
                .isInstanceOfSatisfying(NvmlException.class, e -> {
                    assertThat(e.returnCode()).isEqualTo(NvmlReturn.DRIVER_NOT_LOADED);
                    assertThat(e.function()).isEqualTo("nvmlInit_v2");
                })
                .hasMessage("nvmlInit_v2 failed: NVML_ERROR_DRIVER_NOT_LOADED (9): Driver Not Loaded");
    }

    @Test
    void aDriverLibraryMismatchFailsOpen() {
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().initError(NvmlReturn.LIB_RM_VERSION_MISMATCH).build());

        assertThatThrownBy(FakeNvmlEnvironment::open)
                .hasMessage("nvmlInit_v2 failed: NVML_ERROR_LIB_RM_VERSION_MISMATCH (18): "
                        + "RM has detected an NVML/RM version mismatch");
    }

    @Test
    void aMissingStateFileLooksLikeAnUnloadedDriver() throws IOException {
        Files.delete(FakeNvmlEnvironment.stateFile());

        assertThatThrownBy(FakeNvmlEnvironment::open)
                .isInstanceOfSatisfying(NvmlException.class,
                        e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.DRIVER_NOT_LOADED));
    }

    @Test
    void initialisationIsReferenceCountedAcrossSessions() {
        Nvml first = FakeNvmlEnvironment.open();
        try (Nvml second = FakeNvmlEnvironment.open()) {
            NvmlDevice fromFirst = first.device(0);
            first.close();
            first.close();

            assertThat(second.deviceCount()).as("one shutdown for two inits leaves NVML up").isEqualTo(8);
            assertThatThrownBy(first::deviceCount)
                    .isInstanceOfSatisfying(NvmlException.class,
                            e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.UNINITIALIZED))
                    .hasMessage("nvmlDeviceGetCount_v2 failed: NVML_ERROR_UNINITIALIZED (1): Uninitialized");
            assertThatThrownBy(fromFirst::name)
                    .isInstanceOfSatisfying(NvmlException.class,
                            e -> assertThat(e.returnCode()).isEqualTo(NvmlReturn.UNINITIALIZED));
        }
    }

    @Test
    void afterTheLastShutdownNvmlItselfAnswersUninitialized() {
        FakeNvmlEnvironment.open().close();
        NvmlNative.Library raw = NvmlBinding.loadFile(FakeNvmlEnvironment.library()).library();

        assertThat(raw.nvmlDeviceGetCount_v2(new IntByReference())).isEqualTo(NvmlReturn.UNINITIALIZED.code());
        assertThat(raw.nvmlShutdown()).isEqualTo(NvmlReturn.UNINITIALIZED.code());
    }

    @Test
    void aFailedShutdownIsReportedAndStillClosesTheSession() {
        Nvml nvml = FakeNvmlEnvironment.open();
        install(FakeNvmlEnvironment.healthyH100Node().toBuilder().fail("nvmlShutdown", NvmlReturn.UNKNOWN).build());

        assertThatThrownBy(nvml::close).hasMessage("nvmlShutdown failed: NVML_ERROR_UNKNOWN (999): Unknown Error");
        assertThatThrownBy(nvml::deviceCount).isInstanceOf(NvmlException.class);

        install(FakeNvmlEnvironment.healthyH100Node());
        NvmlNative.Library raw = NvmlBinding.loadFile(FakeNvmlEnvironment.library()).library();
        assertThat(raw.nvmlShutdown()).as("the init the failed shutdown left behind").isZero();
    }
}
