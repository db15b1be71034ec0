package io.gpuwarden.agent.logs;

import io.gpuwarden.proto.v1.LogLine;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides which raw log lines go to the collector: those at or above a severity, within a token
 * bucket per host. A line refused by the bucket is counted, never queued, so a flood costs neither
 * memory nor time.
 *
 * <p>Not thread-safe: called from the sampling cycle.
 */
public final class LogForwarder {
  private final int maxPriority;
  private final double perSecond;
  private final double burst;
  private double tokens;
  private long lastNanos = Long.MIN_VALUE;
  private final List<LogLine> pending = new ArrayList<>();
  private long dropped;
  private long droppedTotal;
  private long forwardedTotal;

  /**
   * Creates a forwarder.
   *
   * @param maxPriority lines with this syslog priority or a more severe (lower) one are forwarded
   * @param perSecond lines per second, sustained
   * @param burst lines allowed at once; the bucket starts full
   */
  public LogForwarder(int maxPriority, double perSecond, int burst) {
    this.maxPriority = maxPriority;
    this.perSecond = perSecond;
    this.burst = Math.max(burst, 0);
    this.tokens = this.burst;
  }

  /** Creates the forwarder {@code config} describes. */
  public static LogForwarder of(LogConfig config) {
    return new LogForwarder(config.forwardMaxPriority(), config.forwardLinesPerSecond(), config.forwardBurst());
  }

  /**
   * Offers a line seen at {@code nowNanos} ({@link System#nanoTime()}).
   *
   * @return true when it will be forwarded; false when it is below the severity or was dropped
   */
  public boolean offer(LogLine line, long nowNanos) {
    if (line.getPriority() > maxPriority) {
      return false;
    }
    refill(nowNanos);
    if (tokens < 1) {
      dropped++;
      droppedTotal++;
      return false;
    }
    tokens -= 1;
    pending.add(line);
    forwardedTotal++;
    return true;
  }

  /** Counts lines lost before they could be offered (a reader's queue overflowed) as dropped. */
  public void countDropped(long lines) {
    dropped += lines;
    droppedTotal += lines;
  }

  private void refill(long nowNanos) {
    if (lastNanos != Long.MIN_VALUE && nowNanos > lastNanos) {
      tokens = Math.min(burst, tokens + (nowNanos - lastNanos) / 1e9 * perSecond);
    }
    lastNanos = nowNanos;
  }

  /** What to send in the next batch. */
  public record Drained(List<LogLine> lines, long dropped) {}

  /** Returns the lines to send and the lines dropped since the last call, and starts over. */
  public Drained drain() {
    Drained d = new Drained(List.copyOf(pending), dropped);
    pending.clear();
    dropped = 0;
    return d;
  }

  /** Returns the lines forwarded since creation. */
  public long forwardedTotal() {
    return forwardedTotal;
  }

  /** Returns the lines dropped since creation. */
  public long droppedTotal() {
    return droppedTotal;
  }
}
