package io.gpuwarden.agent.source.nvml;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;
import java.util.logging.Logger;

/**
 * Runs NVML calls, one per lane (a GPU, or the node-wide queries), with a deadline per call, so a
 * GPU whose driver call hangs — a thread stuck in uninterruptible native code — stalls only itself.
 *
 * <p>While every lane answers, one shared thread makes the calls of a cycle one after the other:
 * one thread hand-off a cycle instead of one per GPU. The deadline still applies to each call on
 * its own. When a call misses it, its lane is marked unresponsive and the shared thread is
 * abandoned — it cannot be interrupted out of native code, so it is never reused; the calls it had
 * not reached yet run at once, each on its lane's own thread, so the other GPUs are still read in
 * that cycle.
 *
 * <p>An unresponsive lane is left out of the shared thread. Nothing is queued to it except one
 * probe every {@code probeInterval}, on the lane's own thread; after {@code maxAbandoned} stuck
 * threads on one lane it is no longer probed at all, so hung threads never pile up. A probe that
 * answers makes the lane responsive again and it rejoins the shared thread. Threads are daemons: a
 * stuck one cannot keep the JVM alive.
 *
 * <p>Thread-safe; {@link #callAll} calls are expected from one thread at a time.
 */
public final class GpuLanes implements AutoCloseable {
  private static final Logger log = Logger.getLogger(GpuLanes.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Duration timeout;
  private final Duration probeInterval;
  private final int maxAbandoned;
  private final List<Lane> lanes = new ArrayList<>();
  /** Makes the calls of responsive lanes in turn; created on first use and after it was abandoned. */
  private ExecutorService shared;
  private boolean closed;
  /**
   * Guards every batch's progress. One long-lived lock rather than each batch's own monitor: a
   * monitor waited on is inflated, and a fresh one each cycle would leave the JVM deflating them.
   */
  private final ReentrantLock batchLock = new ReentrantLock();
  private final Condition batchFinished = batchLock.newCondition();

  /** The outcome of one lane call. */
  public sealed interface Outcome<T> {}

  /** The call returned. */
  public record Done<T>(T value) implements Outcome<T> {}

  /** The call threw. */
  public record Failed<T>(RuntimeException error) implements Outcome<T> {}

  /** The call did not return within the deadline; the lane is now unresponsive. */
  public record TimedOut<T>(String reason) implements Outcome<T> {}

  /** Not called: the lane is unresponsive and no probe is due (or the lanes are closed). */
  public record Skipped<T>(String reason) implements Outcome<T> {}

  private static final class Lane {
    final String name;
    final String threadName;
    /** The lane's own thread, for probes and for calls the shared thread could not reach; created on use. */
    ExecutorService executor;
    boolean unresponsive;
    String reason = "";
    Instant nextProbe = Instant.MIN;
    int abandoned;

    Lane(String name) {
      this.name = name;
      this.threadName = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }

    ExecutorService executor() {
      if (executor == null) {
        executor = newExecutor(threadName);
      }
      return executor;
    }
  }

  /**
   * Creates one lane per name.
   *
   * @param laneNames names the lanes in log lines and thread names, e.g. {@code "GPU 3"} gives
   *     threads {@code gpuwarden-nvml-gpu3-17}
   * @param timeout deadline of one call
   * @param probeInterval how often an unresponsive lane is tried again
   * @param maxAbandoned stuck threads per lane after which it is no longer probed
   */
  public GpuLanes(List<String> laneNames, Duration timeout, Duration probeInterval, int maxAbandoned) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    this.timeout = timeout;
    this.probeInterval = probeInterval;
    this.maxAbandoned = maxAbandoned;
    for (String name : laneNames) {
      lanes.add(new Lane(name));
    }
  }

  private static ExecutorService newExecutor(String threadName) {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "gpuwarden-nvml-" + threadName + "-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Returns the per-call deadline. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Makes one call per lane and waits for all of them, each up to the deadline: the responsive
   * lanes' calls in turn on the shared thread, the due probes of unresponsive lanes at the same
   * time on their own threads.
   *
   * @param calls one call per lane, by lane index
   * @param what names each lane's call in reasons, e.g. {@code "reading the GPU's counters"}
   */
  public <T> List<Outcome<T>> callAll(List<? extends Callable<T>> calls, IntFunction<String> what, Instant now) {
    if (calls.size() != lanes.size()) {
      throw new IllegalArgumentException(calls.size() + " calls for " + lanes.size() + " lanes");
    }
    List<Outcome<T>> out = new ArrayList<>(calls.size());
    List<Integer> together = new ArrayList<>();
    Map<Integer, Future<T>> probes = new LinkedHashMap<>();
    synchronized (this) {
      for (int i = 0; i < calls.size(); i++) {
        out.add(null);
        Lane lane = lanes.get(i);
        if (closed) {
          out.set(i, new Skipped<>("closed"));
        } else if (!lane.unresponsive) {
          together.add(i);
        } else if (lane.abandoned >= maxAbandoned || now.isBefore(lane.nextProbe)) {
          out.set(i, new Skipped<>(lane.reason + (lane.abandoned >= maxAbandoned ? "; no longer probed" : "")));
        } else {
          probes.put(i, lane.executor().submit(calls.get(i)));
        }
      }
    }
    long probeDeadline = System.nanoTime() + timeout.toNanos();
    List<Integer> notReached = callTogether(calls, together, what, now, out);
    if (!notReached.isEmpty()) {
      Map<Integer, Future<T>> alone = new LinkedHashMap<>();
      synchronized (this) {
        for (int i : notReached) {
          alone.put(i, lanes.get(i).executor().submit(calls.get(i)));
        }
      }
      collect(alone, System.nanoTime() + timeout.toNanos(), what, now, out);
    }
    collect(probes, probeDeadline, what, now, out);
    return out;
  }

  /**
   * Runs the calls of {@code order} in turn on the shared thread, each under the deadline, and
   * returns the lanes it did not reach because a call before them hung.
   */
  private <T> List<Integer> callTogether(List<? extends Callable<T>> calls, List<Integer> order, IntFunction<String> what,
      Instant now, List<Outcome<T>> out) {
    if (order.isEmpty()) {
      return List.of();
    }
    long timeoutNanos = timeout.toNanos();
    Batch<T> batch = new Batch<>(calls, order, System.nanoTime(), batchLock, batchFinished);
    synchronized (this) {
      try {
        shared().execute(batch);
      } catch (RejectedExecutionException e) { // closed meanwhile
        order.forEach(i -> out.set(i, new Skipped<>("closed")));
        return List.of();
      }
    }
    int hung = -1;
    boolean interrupted = false;
    batchLock.lock();
    try {
      while (!batch.finished) {
        long left = batch.startedNanos + timeoutNanos - System.nanoTime();
        if (left <= 0) {
          batch.abandoned = true;
          hung = batch.position;
          break;
        }
        try {
          batchFinished.awaitNanos(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          batch.abandoned = true;
          interrupted = true;
          break;
        }
      }
      for (int k = 0; k < batch.position; k++) {
        out.set(order.get(k), batch.results.get(k));
      }
    } finally {
      batchLock.unlock();
    }
    if (interrupted) {
      for (int i : order) {
        if (out.get(i) == null) { // not reached before the interrupt
          out.set(i, new Skipped<>("interrupted"));
        }
      }
      return List.of();
    }
    if (hung < 0) {
      return List.of();
    }
    int lane = order.get(hung);
    synchronized (this) {
      // The shared thread is stuck in native code in this lane's call: abandon it, charged to the lane.
      if (shared != null) {
        shared.shutdownNow();
        shared = null;
      }
      out.set(lane, new TimedOut<>(timedOut(lanes.get(lane), what.apply(lane), now)));
    }
    return List.copyOf(order.subList(hung + 1, order.size()));
  }

  /** Waits for calls on their lanes' own threads until {@code deadlineNanos}. */
  private <T> void collect(Map<Integer, Future<T>> futures, long deadlineNanos, IntFunction<String> what, Instant now,
      List<Outcome<T>> out) {
    for (Map.Entry<Integer, Future<T>> e : futures.entrySet()) {
      int i = e.getKey();
      Future<T> f = e.getValue();
      Lane lane = lanes.get(i);
      try {
        T value = f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        answered(lane);
        out.set(i, new Done<>(value));
      } catch (ExecutionException x) {
        out.set(i, new Failed<>(x.getCause() instanceof RuntimeException r ? r : new IllegalStateException(x.getCause())));
      } catch (TimeoutException x) {
        f.cancel(true);
        synchronized (this) {
          // The lane's thread is stuck in native code: abandon it; the lane gets a fresh one when next used.
          if (lane.executor != null) {
            lane.executor.shutdownNow();
            lane.executor = null;
          }
          out.set(i, new TimedOut<>(timedOut(lane, what.apply(i), now)));
        }
      } catch (InterruptedException x) {
        Thread.currentThread().interrupt();
        out.set(i, new Skipped<>("interrupted"));
      }
    }
  }

  /** A lane whose call returned a value is responsive (one that threw stays unresponsive until one does). */
  private synchronized void answered(Lane lane) {
    if (lane.unresponsive) {
      log.info(lane.name + " answers again after being unresponsive (" + lane.reason + ")");
      lane.unresponsive = false;
      lane.reason = "";
    }
  }

  private String timedOut(Lane lane, String what, Instant now) {
    lane.abandoned++;
    lane.unresponsive = true;
    lane.nextProbe = now.plus(probeInterval);
    lane.reason = what + " did not return within " + timeout.toMillis() + " ms";
    log.warning(lane.name + " is unresponsive: " + lane.reason + " (" + lane.abandoned + " stuck thread(s) abandoned)");
    return lane.reason;
  }

  private ExecutorService shared() {
    if (shared == null) {
      shared = newExecutor("shared");
    }
    return shared;
  }

  /** Marks lane {@code lane} unresponsive without calling it (it already failed elsewhere); a probe follows later. */
  public synchronized void markUnresponsive(int lane, String reason, Instant now) {
    Lane l = lanes.get(lane);
    l.unresponsive = true;
    l.reason = reason;
    l.nextProbe = now.plus(probeInterval);
  }

  /** Returns whether lane {@code lane} is unresponsive now. */
  public synchronized boolean isUnresponsive(int lane) {
    return lanes.get(lane).unresponsive;
  }

  /** Returns how many lanes are unresponsive now. */
  public synchronized int unresponsiveCount() {
    return (int) lanes.stream().filter(l -> l.unresponsive).count();
  }

  /** Returns how many stuck threads were abandoned over all lanes. */
  public synchronized int abandonedThreads() {
    return lanes.stream().mapToInt(l -> l.abandoned).sum();
  }

  /** Stops the threads (stuck ones stay stuck, as daemons); later calls are skipped. */
  @Override
  public synchronized void close() {
    closed = true;
    if (shared != null) {
      shared.shutdownNow();
    }
    for (Lane l : lanes) {
      if (l.executor != null) {
        l.executor.shutdownNow();
      }
    }
  }

  /**
   * The calls of one cycle on the shared thread. {@link #position} is the call running (or about to
   * run), started at {@link #startedNanos}; both change together with the result under the lanes'
   * batch lock, so the waiter never blames a call that already returned.
   */
  private static final class Batch<T> implements Runnable {
    final List<? extends Callable<T>> calls;
    final List<Integer> order;
    final List<Outcome<T>> results;
    final ReentrantLock lock;
    final Condition finishedSignal;
    int position;
    long startedNanos;
    boolean finished;
    boolean abandoned;

    Batch(List<? extends Callable<T>> calls, List<Integer> order, long submittedNanos, ReentrantLock lock,
        Condition finishedSignal) {
      this.calls = calls;
      this.order = order;
      this.results = new ArrayList<>(order.size());
      this.startedNanos = submittedNanos;
      this.lock = lock;
      this.finishedSignal = finishedSignal;
    }

    @Override
    public void run() {
      while (true) {
        int k;
        lock.lock();
        try {
          if (abandoned) {
            return;
          }
          if (position == order.size()) {
            finished = true;
            finishedSignal.signalAll();
            return;
          }
          k = position;
        } finally {
          lock.unlock();
        }
        Outcome<T> outcome = call(calls.get(order.get(k)));
        lock.lock();
        try {
          if (abandoned) {
            return;
          }
          results.add(outcome);
          position = k + 1;
          startedNanos = System.nanoTime();
        } finally {
          lock.unlock();
        }
      }
    }

    private static <T> Outcome<T> call(Callable<T> c) {
      try {
        return new Done<>(c.call());
      } catch (RuntimeException e) {
        return new Failed<>(e);
      } catch (Exception | Error e) {
        return new Failed<>(new IllegalStateException(e));
      }
    }
  }
}
