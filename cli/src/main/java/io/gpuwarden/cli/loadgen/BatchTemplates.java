package io.gpuwarden.cli.loadgen;

import io.gpuwarden.agent.Agent;
import io.gpuwarden.agent.AgentConfig;
import io.gpuwarden.agent.HostMonitor;
import io.gpuwarden.agent.logs.LogConfig;
import io.gpuwarden.cli.demo.DemoInfiniband;
import io.gpuwarden.cli.demo.SimulatedHost;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import io.gpuwarden.proto.v1.CheckResult;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.HealthState;
import io.gpuwarden.proto.v1.Inventory;
import io.gpuwarden.proto.v1.TelemetryBatch;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The batches the simulated agents send, built once by the agent's own code: a {@link HostMonitor}
 * (the real NVML bindings over the fake {@code libnvidia-ml.so.1}, the InfiniBand sysfs reader, the
 * checks) on a demo host whose load moves each cycle, and {@link Agent#batchOf} around each cycle.
 *
 * <ul>
 *   <li>{@link #small()}: cycles that carry the InfiniBand counters (about 3.9 KB);
 *   <li>{@link #large()}: cycles that read them, as every detail interval does (about 9.5 KB);
 *   <li>{@link #appXid()}: a cycle with an application Xid 13 event (no health change);
 *   <li>{@link #fault()}: the cycle in which GPU 3 reported Xid 79 (fallen off the bus): the Xid
 *       check turns UNHEALTHY; {@link #faulted()} the cycles after it (still UNHEALTHY, no event).
 * </ul>
 *
 * <p>The fake library reads its state from {@code $GPUWARDEN_FAKE_NVML_STATE}, which must name a
 * file this process may write (the launcher sets it for {@code loadgen}).
 */
record BatchTemplates(Inventory inventory, String bootId, List<PatchableBatch> small, List<PatchableBatch> large,
    PatchableBatch appXid, PatchableBatch fault, List<PatchableBatch> faulted) {
  /** The GPU the fault template's Xid 79 is on. */
  static final int FAULTY_GPU = 3;
  private static final int SMALL_CYCLES = 20;
  private static final int LARGE_CYCLES = 4;
  private static final int FAULTED_CYCLES = 4;
  private static final Duration EVENT_WAIT = Duration.ofSeconds(10);

  /** Returns the GPU UUIDs of the template host, by index. */
  List<String> gpuUuids() {
    return inventory.getGpusList().stream().map(GpuInfo::getUuid).toList();
  }

  /** Returns node {@code node}'s inventory: the template's, with the node's GPU UUIDs. */
  Inventory inventoryOf(int node) {
    Inventory.Builder b = inventory.toBuilder();
    for (int i = 0; i < b.getGpusCount(); i++) {
      GpuInfo g = b.getGpus(i);
      b.setGpus(i, g.toBuilder().setUuid(PatchableBatch.uuidOf(g.getUuid(), node, (int) g.getIndex())));
    }
    return b.build();
  }

  /**
   * Builds the templates with the files under {@code home} (the repository root: the fake library,
   * the healthy H100 example, the 8-port NDR sysfs fixture) and scratch files in {@code work}.
   *
   * @throws IllegalStateException naming what is missing, or when the fake library does not report an event in time
   */
  static BatchTemplates build(Path home, Path work) throws IOException, InterruptedException {
    String stateEnv = System.getenv("GPUWARDEN_FAKE_NVML_STATE");
    if (stateEnv == null || stateEnv.isBlank()) {
      throw new IllegalStateException("GPUWARDEN_FAKE_NVML_STATE is not set: the load generator builds its batches"
          + " with the agent on the fake NVML library, which reads its state from that file; set it to a file this"
          + " process may write (./gpuwarden loadgen does)");
    }
    Path library = home.resolve("native/target/fake-nvml/libnvidia-ml.so.1");
    Path example = home.resolve("native/examples/h100-8gpu-healthy.state");
    for (Path p : List.of(library, example)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalStateException("the load generator needs " + p + ", which is missing; build it with"
            + " './gpuwarden build' (or 'mvn -DskipTests package') in " + home);
      }
    }
    Path fixture = home.resolve("agent/src/test/fixtures/sysfs/healthy-8x-ndr");
    Path sysfs = Files.isDirectory(fixture) ? fixture : DemoInfiniband.write(work.resolve("sysfs"), 8, 0);
    Files.writeString(work.resolve("boot_id"), "loadgen-" + java.util.UUID.randomUUID() + "\n");
    SimulatedHost host = new SimulatedHost("loadgen-template", 0, FakeNvmlState.parse(example), Path.of(stateEnv), 15);
    AgentConfig.Builder config = AgentConfig.builder().nodeId("loadgen-template").nvmlLibrary(library)
        .bootIdFile(work.resolve("boot_id")).sysfsRoot(sysfs).logs(LogConfig.none());

    List<PatchableBatch> large = new ArrayList<>();
    try (HostMonitor m = HostMonitor.open(config.stateDir(work.resolve("state-large")).detailInterval(Duration.ZERO).build(),
        Clock.systemUTC(), false, () -> {})) {
      for (int i = 0; i < LARGE_CYCLES; i++) {
        host.step();
        large.add(PatchableBatch.of(batch(m.cycle()), uuids(m)));
      }
    }
    try (HostMonitor m = HostMonitor.open(config.stateDir(work.resolve("state")).detailInterval(Duration.ofHours(1)).build(),
        Clock.systemUTC(), true, () -> {})) {
      List<String> uuids = uuids(m);
      Inventory inventory = Inventory.newBuilder().setDriver(m.driver()).addAllGpus(m.inventory())
          .addAllInfinibandPorts(m.infinibandInventory()).build();
      m.cycle(); // the first cycle reads the counters: a large one
      List<PatchableBatch> small = new ArrayList<>();
      for (int i = 0; i < SMALL_CYCLES; i++) {
        host.step();
        small.add(PatchableBatch.of(batch(m.cycle()), uuids));
      }
      PatchableBatch appXid = PatchableBatch.of(withEvent(m, host, 0, 13), uuids);
      PatchableBatch fault = PatchableBatch.of(withEvent(m, host, FAULTY_GPU, 79), uuids);
      List<PatchableBatch> faulted = new ArrayList<>();
      for (int i = 0; i < FAULTED_CYCLES; i++) {
        host.step();
        faulted.add(PatchableBatch.of(batch(m.cycle()), uuids));
      }
      return new BatchTemplates(inventory, m.bootId(), List.copyOf(small), List.copyOf(large), appXid, fault,
          List.copyOf(faulted));
    }
  }

  private static List<String> uuids(HostMonitor m) {
    return m.inventory().stream().map(GpuInfo::getUuid).toList();
  }

  /** Writes an Xid {@code xid} on {@code gpu} and returns the first cycle whose batch carries its event. */
  private static TelemetryBatch withEvent(HostMonitor m, SimulatedHost host, int gpu, int xid) throws InterruptedException {
    host.change(b -> b.xid(host.state().nextEventId(), gpu, xid));
    long deadline = System.nanoTime() + EVENT_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      TelemetryBatch b = batch(m.cycle());
      if (b.getEventsCount() > 0) {
        return b;
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("the fake NVML library did not report the Xid " + xid + " event within " + EVENT_WAIT);
  }

  private static TelemetryBatch batch(HostMonitor.Cycle c) {
    CheckResult liveness = CheckResult.newBuilder().setCheck(Agent.LIVENESS_CHECK).setState(HealthState.HEALTH_STATE_HEALTHY)
        .setTime(ProtoTime.of(c.snapshot().time())).build();
    return Agent.batchOf(c, liveness);
  }
}
