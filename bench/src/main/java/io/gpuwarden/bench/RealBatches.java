package io.gpuwarden.bench;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Batches as the real agent sends them, made by the agent's own code: a {@link HostMonitor} over the
 * fake NVML library (the healthy 8-GPU H100 example) and the 8-port NDR sysfs fixture, ten cycles at
 * a 10-cycle detail interval, so the first batch reads the counters (the large shape, about 9.5 KB)
 * and the others carry them (the small shape, about 3.9 KB). Needs {@code GPUWARDEN_FAKE_NVML_STATE}
 * set for the JVM (bench/run.sh sets it) and runs from the repository root ({@code -Dgpuwarden.home}).
 */
final class RealBatches {
  private RealBatches() {}

  /** Returns ten consecutive batches of one simulated host; the first is the large shape. */
  static List<TelemetryBatch> tenCycles() {
    String stateEnv = System.getenv("GPUWARDEN_FAKE_NVML_STATE");
    if (stateEnv == null) {
      throw new IllegalStateException("set GPUWARDEN_FAKE_NVML_STATE (bench/run.sh does)");
    }
    Path home = Path.of(System.getProperty("gpuwarden.home", "."));
    Path dir = null;
    try {
      dir = Files.createTempDirectory("gpuwarden-bench");
      Files.writeString(dir.resolve("boot_id"), "bench-boot\n");
      FakeNvmlState.example("h100-8gpu-healthy").writeAtomically(Path.of(stateEnv));
      AgentConfig config = AgentConfig.builder().nodeId("bench").nvmlLibrary(home.resolve("native/target/fake-nvml/libnvidia-ml.so.1"))
          .bootIdFile(dir.resolve("boot_id")).stateDir(dir.resolve("state"))
          .sysfsRoot(home.resolve("agent/src/test/fixtures/sysfs/healthy-8x-ndr"))
          .logs(LogConfig.none()).detailInterval(Duration.ofHours(1)).build();
      List<TelemetryBatch> out = new ArrayList<>();
      CheckResult liveness = CheckResult.newBuilder().setCheck(Agent.LIVENESS_CHECK).setState(HealthState.HEALTH_STATE_HEALTHY)
          .build();
      try (HostMonitor m = HostMonitor.open(config, Clock.systemUTC(), false, () -> {})) {
        for (int i = 0; i < 10; i++) {
          out.add(Agent.batchOf(m.cycle(), liveness).toBuilder().setSequence(i + 1).build());
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      deleteTree(dir); // the batches are made: the agent's scratch state is not needed any more
    }
  }

  private static void deleteTree(Path dir) {
    if (dir == null) {
      return;
    }
    try {
      io.gpuwarden.common.FileTrees.delete(dir);
    } catch (IOException e) {
      // best effort: a scratch directory under the temp dir
    }
  }
}
