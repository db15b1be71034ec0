package io.gpuwarden.bench;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.agent.check.xid.XidPolicy;
import io.gpuwarden.agent.classify.ClassifierRules;
import io.gpuwarden.agent.classify.LogClassifier;
import io.gpuwarden.agent.source.kmsg.KmsgParser;
import io.gpuwarden.agent.source.kmsg.KmsgRecord;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Parsing a /dev/kmsg record and classifying its message with the built-in rules: every kernel line the agent reads. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class KernelLogBenchmark {
  private static final String BENIGN = "6,20006,1500,-,caller=T1;mlx5_core 0000:1a:00.0: firmware version: 28.39.1002";
  private static final String XID = "4,20012,5000000,-,caller=T1;NVRM: Xid (PCI:0000:3b:00): 119, pid='<unknown>', "
      + "name=<unknown>, Timeout waiting for RPC from GSP! Expected function 76 (GSP_RM_CONTROL) (0x20801348 0x8).\n"
      + " SUBSYSTEM=pci\n DEVICE=+pci:0000:3b:00.0";
  private final LogClassifier classifier = new LogClassifier(ClassifierRules.defaults(), new XidEvents(XidPolicy.defaults()),
      pci -> Optional.empty());
  private final Instant now = Instant.parse("2026-12-03T10:00:00Z");

  /** A benign record: parsed, no rule matches. */
  @Benchmark
  public Object benignRecord() {
    KmsgRecord r = KmsgParser.parseBlock(BENIGN);
    return classifier.classify(r.message(), now);
  }

  /** An Xid record with its continuation lines: parsed and turned into an event. */
  @Benchmark
  public Object xidRecord() {
    KmsgRecord r = KmsgParser.parseBlock(XID);
    return classifier.classify(r.message(), now);
  }
}
