package io.gpuwarden.bench;

import io.gpuwarden.collector.verdict.StragglerConfig;
import io.gpuwarden.collector.verdict.StragglerDetector;
import io.gpuwarden.proto.v1.GpuSample;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The peer comparison of the straggler detector in one pool of 1,000 or 10,000 busy 8-GPU nodes
 * at varied load: remaking the pool's index (the collector does it once a second, off the ingest
 * threads, but on the same cores) and judging one node against it (every batch does).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StragglerBenchmark {
  /** Nodes in the pool. */
  @Param({"1000", "10000"})
  public int nodes;

  private StragglerDetector detector;
  private Instant start;
  private long calls;
  private int next;

  /** Ten minutes of samples, one every 5 s, of every GPU in the pool, at per-node load between 80 and 100 %. */
  @Setup
  public void setup() {
    detector = new StragglerDetector(new StragglerConfig(StragglerConfig.DEFAULT_K, StragglerConfig.DEFAULT_MIN_PEERS,
        StragglerConfig.DEFAULT_LOAD_THRESHOLD_PERCENT, StragglerConfig.DEFAULT_HALF_LIFE,
        StragglerConfig.DEFAULT_STALE_AFTER));
    Random random = new Random(15);
    Instant t = Instant.parse("2026-12-01T00:00:00Z");
    int[] util = new int[nodes];
    for (int n = 0; n < nodes; n++) {
      util[n] = 80 + random.nextInt(21);
    }
    for (int step = 0; step < 24; step++) {
      t = t.plusSeconds(5);
      for (int n = 0; n < nodes; n++) {
        for (int g = 0; g < 8; g++) {
          int u = util[n];
          detector.observe("bench", "node-" + n, GpuSample.newBuilder().setGpuUuid("GPU-" + n + "-" + g).setIndex(g)
              .setUtilizationGpuPercent(u).setPowerMilliwatts(300_000 + u * 4_000 + random.nextInt(10_000))
              .setTemperatureCelsius(40 + u / 4 + random.nextInt(2)).setSmClockMhz(1980 - random.nextInt(15)).build(), t);
        }
      }
    }
    start = t;
  }

  /** Remakes the pool's index (at 1 s and 10 s after the samples in turn, so that it is always due). */
  @Benchmark
  public void refreshIndex() {
    detector.refresh(start.plusSeconds(1 + 9 * (calls++ & 1)));
  }

  /** Judges the next node in turn against the index in force. */
  @Benchmark
  public int judgeOneNode() {
    int n = next++;
    if (next == nodes) {
      next = 0;
    }
    return detector.judge("bench", "node-" + n, start.plusMillis(100)).size();
  }
}
