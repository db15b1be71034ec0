package io.gpuwarden.cli.demo;

import io.gpuwarden.nvml.ClockType;
import io.gpuwarden.nvml.fake.FakeGpu;
import io.gpuwarden.nvml.fake.FakeNvmlState;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * One simulated GPU host of the demo: a fake NVML state file whose GPUs run a made-up training
 * load. Each {@link #step()} moves every GPU's utilisation a little (a random walk between idle
 * and busy phases) and derives temperature, power, clocks and memory from it, then rewrites the
 * state file atomically so the host's agent reads the new values through the fake library.
 *
 * <p>A {@linkplain #injectFault fault} is applied after the load on every step, so the load keeps
 * moving and the fault stays. Thread-safe: the demo loop steps hosts while the maintenance
 * scenario injects faults.
 */
public final class SimulatedHost {
  private static final long MIB = 1024L * 1024;

  private final String nodeId;
  private final Path stateFile;
  private final Random random;
  private final double[] utilization;
  private final List<UnaryOperator<FakeNvmlState.Builder>> faults = new ArrayList<>();
  private FakeNvmlState state;

  /**
   * Creates host number {@code ordinal} from {@code template}, giving its GPUs their own UUIDs and
   * serials, and writes its state file.
   */
  public SimulatedHost(String nodeId, int ordinal, FakeNvmlState template, Path stateFile, long seed) {
    this.nodeId = nodeId;
    this.stateFile = stateFile;
    this.random = new Random(seed);
    FakeNvmlState.Builder b = template.toBuilder();
    for (FakeGpu gpu : template.gpus()) {
      int i = gpu.index();
      b.gpu(i, g -> g
          .uuid(String.format(Locale.ROOT, "GPU-%08x-%04x-4%03x-8%03x-%012x", 0xdead0000L + ordinal, i, ordinal, i,
              (long) ordinal << 16 | i))
          .serial(String.format(Locale.ROOT, "16549%04d%04d", ordinal, i)));
    }
    this.state = b.build();
    this.utilization = new double[template.gpus().size()];
    for (int i = 0; i < utilization.length; i++) {
      utilization[i] = random.nextDouble() * 100;
    }
    state.writeAtomically(stateFile);
  }

  String nodeId() {
    return nodeId;
  }

  Path stateFile() {
    return stateFile;
  }

  /**
   * Adds a fault that every later step keeps, e.g. {@code b -> b.gpu(3, g -> g.eccErrors(...))}, and
   * rewrites the state file at once.
   */
  public synchronized void injectFault(UnaryOperator<FakeNvmlState.Builder> fault) {
    faults.add(fault);
    state = fault.apply(state.toBuilder()).build();
    state.writeAtomically(stateFile);
  }

  /**
   * Applies {@code change} once, e.g. {@code b -> b.xid(b.build().nextEventId(), 3, 79)} (an event),
   * and rewrites the state file; unlike {@linkplain #injectFault a fault} later steps do not apply it again.
   */
  public synchronized void change(UnaryOperator<FakeNvmlState.Builder> change) {
    state = change.apply(state.toBuilder()).build();
    state.writeAtomically(stateFile);
  }

  /** Returns the state the host's file holds now. */
  public synchronized FakeNvmlState state() {
    return state;
  }

  /** Advances the simulated load by one step and rewrites the state file. */
  public synchronized void step() {
    FakeNvmlState.Builder b = state.toBuilder();
    for (int i = 0; i < utilization.length; i++) {
      double u = utilization[i] + random.nextGaussian() * 12;
      if (random.nextDouble() < 0.05) {
        u = random.nextBoolean() ? 0 : 97; // a phase change: checkpoint pause or full load
      }
      utilization[i] = Math.max(0, Math.min(100, u));
      int util = (int) Math.round(utilization[i]);
      int temperature = (int) Math.round(31 + util * 0.42 + random.nextGaussian());
      long powerMw = Math.round(70_000 + util * 6_100 + random.nextGaussian() * 3_000);
      int smClock = util > 3 ? 1980 - (util > 90 ? random.nextInt(120) : 0) : 345;
      long usedBytes = util > 3 ? (long) (40_000 + util * 380) * MIB : 4 * MIB;
      b.gpu(i, g -> g
          .utilization(util, Math.min(100, util * 2 / 3))
          .temperatureCelsius(temperature)
          .powerUsageMilliwatts(Math.max(60_000, powerMw))
          .clockMhz(ClockType.SM, smClock)
          .clockMhz(ClockType.GRAPHICS, smClock)
          .memory(85_520_809_984L, 579_862_528L, usedBytes));
    }
    for (UnaryOperator<FakeNvmlState.Builder> fault : faults) {
      b = fault.apply(b);
    }
    state = b.build();
    state.writeAtomically(stateFile);
  }
}
