package io.gpuwarden.bench;

import io.gpuwarden.agent.source.infiniband.InfinibandFormats;
import io.gpuwarden.agent.source.infiniband.InfinibandSysfs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reading InfiniBand ports from a sysfs tree in the kernel's layout (the 8-port NDR fixture, real
 * files): the agent's cheap read (each port's state) every cycle and its full read (state, rate and
 * every counter) every detail interval; and parsing one attribute's text.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SysfsBenchmark {
  private InfinibandSysfs sysfs;
  private final Instant now = Instant.parse("2026-12-03T10:00:00Z");

  /** The fixture tree, read once so the cheap read has a listing. */
  @Setup
  public void setup() {
    sysfs = new InfinibandSysfs(Path.of(System.getProperty("gpuwarden.home", "."), "agent/src/test/fixtures/sysfs/healthy-8x-ndr"));
    sysfs.sample(now, true);
  }

  /** Every cycle: each port's state file. */
  @Benchmark
  public Object cheapReadOf8Ports() {
    return sysfs.sample(now, false);
  }

  /** Every detail interval: the ports listed afresh, state, physical state, rate and every counter. */
  @Benchmark
  public Object fullReadOf8Ports() {
    return sysfs.sample(now, true);
  }

  /** One rate file's text. */
  @Benchmark
  public Object parseRate() {
    return InfinibandFormats.rate("400 Gb/sec (4X NDR)");
  }
}
