package io.gpuwarden.cli.loadgen;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Makes the batches of some of the agents at the offered rate: agent {@code k} of {@code n} sends a
 * burst every {@link LoadSettings#burstPeriod()}, offset by {@code k/n} of it, so the fleet's load
 * is spread evenly over time. A pacer that falls behind makes the late bursts at once (the offered
 * load is kept, not dropped).
 */
final class Pacer implements Runnable {
  private final SimulatedAgent[] agents;
  private final long[] offsets;
  private final long period;
  private final int burst;
  private final long start;
  private final long end;

  /** Paces agents {@code thread}, {@code thread + threads}, ... of {@code all}, from {@code start} to {@code end} (nanoTime). */
  Pacer(List<SimulatedAgent> all, int thread, int threads, LoadSettings settings, long start, long end) {
    int mine = (all.size() - thread + threads - 1) / threads;
    this.agents = new SimulatedAgent[Math.max(0, mine)];
    this.offsets = new long[agents.length];
    this.period = settings.burstPeriod().toNanos();
    for (int i = 0; i < agents.length; i++) {
      int k = thread + i * threads;
      agents[i] = all.get(k);
      offsets[i] = (long) ((double) k / all.size() * period);
    }
    this.burst = settings.burst();
    this.start = start;
    this.end = end;
  }

  @Override
  public void run() {
    if (agents.length == 0) {
      return;
    }
    for (long round = 0; ; round++) {
      for (int i = 0; i < agents.length; i++) {
        long due = start + round * period + offsets[i];
        if (due - end >= 0) {
          return;
        }
        long wait = due - System.nanoTime();
        if (wait > 100_000) {
          LockSupport.parkNanos(wait);
        }
        if (Thread.currentThread().isInterrupted()) {
          return;
        }
        agents[i].make(burst, System.nanoTime());
      }
    }
  }
}
