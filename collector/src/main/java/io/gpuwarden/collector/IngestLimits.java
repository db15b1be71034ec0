package io.gpuwarden.collector;

/**
 * What bounds the collector's ingest, an immutable value: how many agent streams it serves at once
 * (more are refused with RESOURCE_EXHAUSTED, and agents retry later with backoff), how many threads
 * decode and apply their batches (a fixed, small number, not one per stream), and how many bytes of
 * one stream may wait unread (its HTTP/2 flow-control window: when the collector cannot keep up it
 * stops reading, agents stop sending and keep their batches in their spools).
 *
 * <pre>{@code
 * CollectorConfig.defaults().withIngest(IngestLimits.defaults().withMaxAgents(20_000));
 * }</pre>
 *
 * @param maxAgents most agent streams served at once
 * @param workers threads that run the gRPC calls (decode and apply batches); 0: one per core, at least 2
 * @param windowBytes HTTP/2 flow-control window per stream, bytes
 */
public record IngestLimits(int maxAgents, int workers, int windowBytes) {
  /** Default {@link #maxAgents()}: the fleet one collector is sized for. */
  public static final int DEFAULT_MAX_AGENTS = 50_000;
  /**
   * Default {@link #windowBytes()}: 32 KiB, three batches of the agent's largest shape (about 9.5 KB)
   * or eight of its usual one (3.9 KB): more than a stream served one batch at a time can use, and
   * what bounds the unread bytes an agent the collector does not keep up with makes it hold. With
   * 128 KiB, 19,600 agents that a collector fell behind held 3 GiB of direct buffers and ran it out
   * of memory (BENCHMARKS.md).
   */
  public static final int DEFAULT_WINDOW_BYTES = 32 * 1024;

  /** Validates. */
  public IngestLimits {
    if (maxAgents < 1) {
      throw new IllegalArgumentException("max agents must be at least 1, got " + maxAgents);
    }
    if (workers < 0) {
      throw new IllegalArgumentException("ingest workers must be >= 0 (0: one per core), got " + workers);
    }
    if (windowBytes < 16 * 1024) {
      throw new IllegalArgumentException("flow-control window must be at least 16 KiB, got " + windowBytes);
    }
  }

  /** Returns 50,000 agents, one worker per core, 32 KiB per stream. */
  public static IngestLimits defaults() {
    return new IngestLimits(DEFAULT_MAX_AGENTS, 0, DEFAULT_WINDOW_BYTES);
  }

  /** Returns a copy serving at most {@code n} agent streams. */
  public IngestLimits withMaxAgents(int n) {
    return new IngestLimits(n, workers, windowBytes);
  }

  /** Returns a copy with {@code n} worker threads (0: one per core). */
  public IngestLimits withWorkers(int n) {
    return new IngestLimits(maxAgents, n, windowBytes);
  }

  /** Returns the worker thread count in force. */
  public int workerThreads() {
    return workers > 0 ? workers : Math.max(2, Runtime.getRuntime().availableProcessors());
  }
}
