package io.gpuwarden.cli.demo;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the demo finds what it runs: the agent jar, the fake NVML library and the healthy H100
 * state file it copies for each simulated host, all relative to the repository root
 * ({@code -Dgpuwarden.home}, set by the launcher).
 *
 * @param agentJar the shaded agent jar
 * @param fakeNvml the fake {@code libnvidia-ml.so.1}
 * @param healthyState the state file of a healthy 8-GPU H100 host
 */
public record DemoLayout(Path agentJar, Path fakeNvml, Path healthyState) {
  /**
   * Finds the files under {@code home}.
   *
   * @throws IllegalStateException naming every missing file and how to build it
   */
  public static DemoLayout under(Path home) {
    DemoLayout layout = new DemoLayout(
        home.resolve("agent/target/gpuwarden-agent.jar"),
        home.resolve("native/target/fake-nvml/libnvidia-ml.so.1"),
        home.resolve("native/examples/h100-8gpu-healthy.state"));
    StringBuilder missing = new StringBuilder();
    for (Path p : new Path[] {layout.agentJar, layout.fakeNvml, layout.healthyState}) {
      if (!Files.isRegularFile(p)) {
        missing.append("\n  ").append(p);
      }
    }
    if (missing.length() > 0) {
      throw new IllegalStateException("the demo needs these files, which are missing:" + missing
          + "\nbuild them with './gpuwarden build' (or 'mvn -DskipTests package') in " + home);
    }
    return layout;
  }

  /** Returns the repository root the launcher passed, else the working directory. */
  public static Path home() {
    String home = System.getProperty("gpuwarden.home");
    return Path.of(home != null ? home : ".").toAbsolutePath().normalize();
  }
}
