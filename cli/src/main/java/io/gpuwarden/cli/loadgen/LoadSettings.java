package io.gpuwarden.cli.loadgen;

import java.time.Duration;
import java.util.Locale;

/**
 * What one load generator run offers, an immutable value.
 *
 * @param nodes simulated agents, each its own connection
 * @param rate batches per second, all agents together
 * @param burst batches each agent sends back to back (the agent's send interval groups its cycles)
 * @param duration how long batches are made
 * @param drain how long, after that, the run waits for the last acknowledgements
 * @param report the interval of the report lines
 * @param host collector host
 * @param port collector port
 * @param nodePrefix node ids are this prefix and a number
 * @param firstNode the number of the first node (several generators against one collector use distinct ranges)
 * @param pool the nodes' pool
 * @param shape the batches' shape
 * @param xidEvery about one batch in this many carries an application Xid 13 event (0: none)
 * @param backlog batches each agent keeps unacknowledged at most
 * @param maxBackoff the longest wait before an agent opens a refused or broken stream again
 * @param threads threads that make batches, and transport threads
 * @param faultEvery how often one more node reports Xid 79, its fault timed to its verdict and gate status (zero: never)
 */
record LoadSettings(int nodes, double rate, int burst, Duration duration, Duration drain, Duration report, String host,
    int port, String nodePrefix, int firstNode, String pool, Shape shape, int xidEvery, int backlog, Duration maxBackoff,
    int threads, Duration faultEvery) {
  /** The batch shapes. */
  enum Shape {
    /** Batches that carry the InfiniBand counters, about 3.9 KB. */
    SMALL,
    /** Batches that read them, about 9.5 KB. */
    LARGE,
    /** One large in ten, as the agent's default detail interval sends them. */
    MIXED;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Validates. */
  LoadSettings {
    if (nodes < 1) {
      throw new IllegalArgumentException("--nodes must be at least 1, got " + nodes);
    }
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("--rate must be a positive number of batches per second, got " + rate);
    }
    if (burst < 1 || burst > 100) {
      throw new IllegalArgumentException("--burst must be 1 to 100, got " + burst);
    }
    if (backlog < burst) {
      throw new IllegalArgumentException("--backlog must be at least --burst (" + burst + "), got " + backlog);
    }
    if (xidEvery < 0) {
      throw new IllegalArgumentException("--xid-every must be 0 (none) or more, got " + xidEvery);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
    }
    if (firstNode < 0 || (long) firstNode + nodes > 0xffffffffL) {
      throw new IllegalArgumentException("--first-node must be 0 or more (and with --nodes fit in 32 bits), got " + firstNode);
    }
    requirePositive("--duration", duration);
    requirePositive("--report", report);
    if (drain.isNegative() || faultEvery.isNegative() || maxBackoff.toMillis() < 100) {
      throw new IllegalArgumentException("--drain and --fault-every must not be negative, --max-backoff at least 100ms");
    }
    if (!nodePrefix.matches("[A-Za-z0-9._:-]+")) {
      throw new IllegalArgumentException("--node-prefix '" + nodePrefix + "' is not a node id prefix: use [A-Za-z0-9._:-]");
    }
  }

  private static void requirePositive(String option, Duration d) {
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(option + " must be positive, got " + d);
    }
  }

  /** Returns the node id of agent {@code ordinal} (0-based, before {@link #firstNode()}). */
  String nodeId(int ordinal) {
    return nodePrefix + (firstNode + ordinal);
  }

  /** Returns how often each agent sends a burst. */
  Duration burstPeriod() {
    return Duration.ofNanos(Math.round(burst * (double) nodes / rate * 1e9));
  }
}
