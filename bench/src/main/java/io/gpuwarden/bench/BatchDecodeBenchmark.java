package io.gpuwarden.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import io.gpuwarden.proto.v1.IngestRequest;
import java.util.List;
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

/** Decoding one agent batch off the wire, both shapes: what gRPC does for every batch before the collector sees it. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchDecodeBenchmark {
  private byte[] small;
  private byte[] large;

  /** Builds the two shapes with the agent's code. */
  @Setup
  public void setup() {
    List<io.gpuwarden.proto.v1.TelemetryBatch> ten = RealBatches.tenCycles();
    large = IngestRequest.newBuilder().setBatch(ten.get(0)).build().toByteArray();
    small = IngestRequest.newBuilder().setBatch(ten.get(5)).build().toByteArray();
  }

  /** The small shape (counters carried): about 3.9 KB. */
  @Benchmark
  public IngestRequest decodeSmall() throws InvalidProtocolBufferException {
    return IngestRequest.parseFrom(small);
  }

  /** The large shape (counters read): about 9.5 KB. */
  @Benchmark
  public IngestRequest decodeLarge() throws InvalidProtocolBufferException {
    return IngestRequest.parseFrom(large);
  }
}
