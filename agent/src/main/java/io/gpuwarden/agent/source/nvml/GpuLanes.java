package io.gpuwarden.agent.source.nvml;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * Runs each GPU's NVML calls on that GPU's own thread ("lane") with a deadline, so a GPU whose
 * driver call hangs — a thread stuck in uninterruptible native code — stalls only itself.
 *
 * <p>When a lane misses its deadline the GPU is marked unresponsive and its thread is abandoned:
 * it cannot be interrupted out of native code, so it is never reused; a fresh thread takes the
 * lane. While a GPU is unresponsive nothing is queued to it except one probe every
 * {@code probeInterval}; after {@code maxAbandoned} stuck threads on one GPU the lane stops
 * probing altogether, so hung threads never pile up. Threads are daemons: a stuck one cannot keep
 * the JVM alive.
 *
 * <p>Thread-safe.
 */
public final class GpuLanes implements AutoCloseable {
  private static final Logger log = Logger.getLogger(GpuLanes.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final String name;
  private final Duration timeout;
  private final Duration probeInterval;
  private final int maxAbandoned;
  private final List<Lane> lanes = new ArrayList<>();

  /** The outcome of one lane call. */
  public sealed interface Outcome<T> {}

  /** The call returned (or threw, see {@link Failed}). */
  public record Done<T>(T value) implements Outcome<T> {}

  /** The call threw. */
  public record Failed<T>(RuntimeException error) implements Outcome<T> {}

  /** The call did not return within the deadline; the GPU is now unresponsive. */
  public record TimedOut<T>(String reason) implements Outcome<T> {}

  /** Not called: the GPU is unresponsive and no probe is due. */
  public record Skipped<T>(String reason) implements Outcome<T> {}

  private static final class Lane {
    final int gpu;
    ExecutorService executor;
    boolean unresponsive;
    String reason = "";
    Instant nextProbe = Instant.MIN;
    int abandoned;

    Lane(int gpu, String name) {
      this.gpu = gpu;
      this.executor = newExecutor(name, gpu);
    }
  }

  /**
   * Creates lanes for {@code gpus} GPUs.
   *
   * @param name names the lanes' threads, e.g. {@code "gpu"} gives {@code gpuwarden-nvml-gpu3-17}
   * @param timeout deadline of one call on a lane
   * @param probeInterval how often an unresponsive GPU is tried again
   * @param maxAbandoned stuck threads per GPU after which it is no longer probed
   */
  public GpuLanes(String name, int gpus, Duration timeout, Duration probeInterval, int maxAbandoned) {
    this.name = name;
    this.timeout = timeout;
    this.probeInterval = probeInterval;
    this.maxAbandoned = maxAbandoned;
    for (int i = 0; i < gpus; i++) {
      lanes.add(new Lane(i, name));
    }
  }

  private static ExecutorService newExecutor(String name, int gpu) {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "gpuwarden-nvml-" + name + gpu + "-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Returns the per-call deadline. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Runs {@code call} on each GPU's lane at once and waits for all of them, each up to the deadline.
   *
   * @param calls one call per GPU, by lane index
   * @param what names the call in reasons, e.g. {@code "sampling"}
   */
  public <T> List<Outcome<T>> callAll(List<? extends Callable<T>> calls, String what, Instant now) {
    List<Future<T>> futures = new ArrayList<>(calls.size());
    List<Outcome<T>> out = new ArrayList<>(calls.size());
    synchronized (this) {
      for (int i = 0; i < calls.size(); i++) {
        Lane lane = lanes.get(i);
        if (lane.unresponsive && (lane.abandoned >= maxAbandoned || now.isBefore(lane.nextProbe))) {
          futures.add(null);
        } else {
          futures.add(lane.executor.submit(calls.get(i)));
        }
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < calls.size(); i++) {
      Future<T> f = futures.get(i);
      Lane lane = lanes.get(i);
      if (f == null) {
        synchronized (this) {
          out.add(new Skipped<>(lane.reason + (lane.abandoned >= maxAbandoned ? "; no longer probed" : "")));
        }
        continue;
      }
      try {
        T value = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        synchronized (this) {
          if (lane.unresponsive) {
            log.info(name + " " + lane.gpu + " answers again after being unresponsive (" + lane.reason + ")");
            lane.unresponsive = false;
            lane.reason = "";
          }
        }
        out.add(new Done<>(value));
      } catch (ExecutionException e) {
        out.add(new Failed<>(e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause())));
      } catch (TimeoutException e) {
        f.cancel(true);
        String reason;
        synchronized (this) {
          // The thread is stuck in native code: abandon it and give the lane a fresh one.
          lane.executor.shutdownNow();
          lane.executor = newExecutor(name, lane.gpu);
          lane.abandoned++;
          lane.unresponsive = true;
          lane.nextProbe = now.plus(probeInterval);
          reason = what + " did not return within " + timeout.toMillis() + " ms";
          lane.reason = reason;
          log.warning(name + " " + lane.gpu + " is unresponsive: " + reason + " (" + lane.abandoned + " stuck thread(s) abandoned)");
        }
        out.add(new TimedOut<>(reason));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.add(new Skipped<>("interrupted"));
      }
    }
    return out;
  }

  /** Marks lane {@code gpu} unresponsive without calling it (it already failed elsewhere); a probe follows later. */
  public synchronized void markUnresponsive(int gpu, String reason, Instant now) {
    Lane lane = lanes.get(gpu);
    lane.unresponsive = true;
    lane.reason = reason;
    lane.nextProbe = now.plus(probeInterval);
  }

  /** Returns how many GPU lanes are unresponsive now. */
  public synchronized int unresponsiveCount() {
    return (int) lanes.stream().filter(l -> l.unresponsive).count();
  }

  /** Returns how many stuck threads were abandoned over all lanes. */
  public synchronized int abandonedThreads() {
    return lanes.stream().mapToInt(l -> l.abandoned).sum();
  }

  /** Stops the lanes' threads (stuck ones stay stuck, as daemons). */
  @Override
  public synchronized void close() {
    for (Lane l : lanes) {
      l.executor.shutdownNow();
    }
  }
}
