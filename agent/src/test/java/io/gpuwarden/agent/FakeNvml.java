package io.gpuwarden.agent;

import io.gpuwarden.nvml.fake.FakeDriverProfile;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.nio.file.Path;

/**
 * Where this module's tests find the fake NVML library and the state file it reads (surefire sets
 * {@code GPUWARDEN_FAKE_NVML_STATE} for the test JVM; tests rewrite that file).
 */
public final class FakeNvml {
  private FakeNvml() {}

  /** Where the native module built the fake's libraries. */
  public static Path directory() {
    return Path.of(System.getProperty("gpuwarden.fakeNvmlDir", "../native/target/fake-nvml")).toAbsolutePath();
  }

  /** The fake {@code libnvidia-ml.so.1} built by the native module: the newest driver profile. */
  public static Path library() {
    return directory().resolve("libnvidia-ml.so.1");
  }

  /** The build of the fake that answers as driver branch {@code profile}. */
  public static Path library(FakeDriverProfile profile) {
    return profile.library(directory());
  }

  /** The state file the fake reads in this JVM. */
  public static Path stateFile() {
    String env = System.getenv("GPUWARDEN_FAKE_NVML_STATE");
    if (env == null) {
      throw new IllegalStateException("GPUWARDEN_FAKE_NVML_STATE is not set; run the tests through Maven");
    }
    return Path.of(env);
  }

  /** Writes {@code state} as the state the fake reads next. */
  public static void write(FakeNvmlState state) {
    try {
      java.nio.file.Files.createDirectories(stateFile().getParent());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    state.writeAtomically(stateFile());
  }

  /** The healthy 8-GPU H100 example shipped in native/examples (driver profile R580, the default library's). */
  public static FakeNvmlState healthyH100() {
    return FakeNvmlState.example("h100-8gpu-healthy");
  }

  /** An example shipped in native/examples (e.g. {@code h100-8gpu-unhealthy}) as a node of {@code profile}. */
  public static FakeNvmlState example(String name, FakeDriverProfile profile) {
    return FakeNvmlState.example(name).toBuilder().driverProfile(profile).build();
  }
}
