package io.gpuwarden.cli.loadgen;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the simulated agents did, counted from every thread: batches made, written to their streams
 * and acknowledged, batches not made because an agent's backlog was full, streams refused and
 * broken, fault batches previewed (and previews that failed), and the acknowledgement latency (from the moment the agent made a batch to the
 * acknowledgement that covers it) of this report interval and of the whole run.
 */
final class LoadStats {
  final LongAdder generated = new LongAdder();
  final LongAdder sent = new LongAdder();
  final LongAdder acknowledged = new LongAdder();
  final LongAdder heldBack = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder broken = new LongAdder();
  final LongAdder resent = new LongAdder();
  final LongAdder previews = new LongAdder();
  final LongAdder previewsFailed = new LongAdder();
  /** From sending a preview to the collector's answer, µs. */
  final LatencyHistogram previewAnswered = new LatencyHistogram();
  private final AtomicReference<LatencyHistogram> interval = new AtomicReference<>(new LatencyHistogram());
  private final LatencyHistogram total = new LatencyHistogram();

  /** Counts the acknowledgement of one batch made {@code micros} µs ago. */
  void acknowledged(long micros) {
    acknowledged.increment();
    interval.get().record(micros);
    total.record(micros);
  }

  /** Returns the latencies since the last call and starts a new interval. */
  LatencyHistogram takeInterval() {
    return interval.getAndSet(new LatencyHistogram());
  }

  /** Returns the latencies of the whole run. */
  LatencyHistogram total() {
    return total;
  }
}
