package io.gpuwarden.agent;

import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.nio.file.Path;

/**
 * Where this module's tests find the fake NVML library and the state file it reads (surefire sets
 * {@code GPUWARDEN_FAKE_NVML_STATE} for the test JVM; tests rewrite that file).
 */
public final class FakeNvml {
  private FakeNvml() {}

  /** The fake {@code libnvidia-ml.so.1} built by the native module. */
  public static Path library() {
    return Path.of(System.getProperty("gpuwarden.fakeNvmlDir", "../native/target/fake-nvml"), "libnvidia-ml.so.1")
        .toAbsolutePath();
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

  /** The healthy 8-GPU H100 example shipped in native/examples. */
  public static FakeNvmlState healthyH100() {
    return FakeNvmlState.example("h100-8gpu-healthy");
  }
}
