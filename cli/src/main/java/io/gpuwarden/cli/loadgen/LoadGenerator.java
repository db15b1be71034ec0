package io.gpuwarden.cli.loadgen;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one load: connects the simulated agents (at most {@value #CONNECTS_PER_SECOND} new
 * connections a second, so a large fleet does not overflow the collector's accept queue), paces
 * their batches for the duration, prints a report line every interval, waits up to the drain time
 * for the last acknowledgements and closes every stream and connection it opened.
 */
final class LoadGenerator {
  /** New connections per second while the agents start. */
  static final int CONNECTS_PER_SECOND = 2_000;

  private final LoadSettings settings;
  private final BatchTemplates templates;
  private final PrintWriter out;

  LoadGenerator(LoadSettings settings, BatchTemplates templates, PrintWriter out) {
    this.settings = settings;
    this.templates = templates;
    this.out = out;
  }

  /** What a run ended with. */
  record Result(long made, long acknowledged, long lost, long heldBack) {}

  /** Runs the load; returns what it ended with. */
  Result run() throws InterruptedException {
    NioEventLoopGroup group = new NioEventLoopGroup(settings.threads(), daemon("loadgen-io"));
    ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(daemon("loadgen-timer"));
    LoadStats stats = new LoadStats();
    List<ManagedChannel> channels = new ArrayList<>(settings.nodes());
    List<SimulatedAgent> agents = new ArrayList<>(settings.nodes());
    ManagedChannel probeChannel = null;
    // Previews go on a connection apart from the ingest streams', as the agent's do (one for all the
    // simulated agents: they are rare); it connects at the first one.
    ManagedChannel previewChannel = channel(group);
    try {
      for (int i = 0; i < settings.nodes(); i++) {
        ManagedChannel ch = channel(group);
        channels.add(ch);
        agents.add(new SimulatedAgent(i, settings, templates, ch, previewChannel, timers, stats));
      }
      FaultProbe probe = null;
      if (!settings.faultEvery().isZero()) {
        int probes = (int) Math.min(agents.size(), settings.duration().toMillis() / settings.faultEvery().toMillis() + 1);
        probe = new FaultProbe(agents.subList(0, probes));
        probeChannel = channel(group);
        probe.watch(probeChannel);
      }
      long t0 = System.nanoTime();
      for (int i = 0; i < agents.size(); i++) {
        agents.get(i).connect();
        if (i % (CONNECTS_PER_SECOND / 100) == CONNECTS_PER_SECOND / 100 - 1) {
          Thread.sleep(10);
        }
      }
      out.printf(Locale.ROOT, "loadgen: %,d agents connecting to %s:%d (%.1f s); offering %,.0f batches/s (burst %d,"
              + " shape %s) for %s%n", agents.size(), settings.host(), settings.port(), (System.nanoTime() - t0) / 1e9,
          settings.rate(), settings.burst(), settings.shape(), human(settings.duration()));
      out.flush();
      long start = System.nanoTime();
      long end = start + settings.duration().toNanos();
      List<Thread> pacers = new ArrayList<>();
      for (int t = 0; t < settings.threads(); t++) {
        Thread th = new Thread(new Pacer(agents, t, settings.threads(), settings, start, end), "loadgen-pacer-" + t);
        th.setDaemon(true);
        th.start();
        pacers.add(th);
      }
      if (probe != null) {
        FaultProbe p = probe;
        long first = Math.max(settings.faultEvery().toMillis(), 10_000);
        timers.scheduleAtFixedRate(() -> {
          if (System.nanoTime() < end) {
            p.faultNext();
          }
        }, first, settings.faultEvery().toMillis(), TimeUnit.MILLISECONDS);
      }
      Reporter reporter = new Reporter(stats, agents, start);
      long ackedAtEnd = reporter.until(end);
      long drainEnd = System.nanoTime() + settings.drain().toNanos();
      reporter.untilDrained(drainEnd);
      for (Thread th : pacers) {
        th.interrupt();
        th.join(1_000);
      }
      return summary(stats, agents, probe, ackedAtEnd);
    } finally {
      for (SimulatedAgent a : agents) {
        a.close();
      }
      timers.shutdownNow();
      for (ManagedChannel ch : channels) {
        ch.shutdown();
      }
      if (probeChannel != null) {
        probeChannel.shutdownNow();
      }
      previewChannel.shutdownNow();
      for (ManagedChannel ch : channels) {
        if (!ch.awaitTermination(2, TimeUnit.SECONDS)) {
          ch.shutdownNow();
        }
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    }
  }

  private ManagedChannel channel(NioEventLoopGroup group) {
    return NettyChannelBuilder.forAddress(settings.host(), settings.port())
        .usePlaintext()
        .eventLoopGroup(group)
        .channelType(NioSocketChannel.class)
        .directExecutor()
        .flowControlWindow(NettyChannelBuilder.DEFAULT_FLOW_CONTROL_WINDOW)
        .disableRetry()
        .build();
  }

  private Result summary(LoadStats stats, List<SimulatedAgent> agents, FaultProbe probe, long ackedAtEnd) {
    long lost = 0;
    for (SimulatedAgent a : agents) {
      lost += a.unacknowledged();
    }
    long made = stats.generated.sum();
    long acked = stats.acknowledged.sum();
    LatencyHistogram all = stats.total();
    out.printf(Locale.ROOT, "made %,d batches, sent %,d (%,d again after a reconnect), acknowledged %,d; %,.0f acknowledged/s"
            + " while making; held back %,d (an agent's backlog of %d was full: agents slowed); streams refused %,d, broken %,d%n",
        made, stats.sent.sum(), stats.resent.sum(), acked, ackedAtEnd / (settings.duration().toNanos() / 1e9),
        stats.heldBack.sum(), settings.backlog(), stats.refused.sum(), stats.broken.sum());
    out.printf(Locale.ROOT, "acknowledgement latency: p50 %s, p99 %s, p99.9 %s, max %s%n", ms(all.quantile(0.5)),
        ms(all.quantile(0.99)), ms(all.quantile(0.999)), ms(all.max()));
    if (probe != null) {
      out.printf(Locale.ROOT, "fault to verdict (%d nodes faulted): UNHEALTHY at WatchVerdicts %d, p50 %s, p99 %s, max %s;"
              + " not allocatable at WatchGate %d, p50 %s, p99 %s, max %s; previewed %d (failed %d, answered in p50 %s,"
              + " max %s)%s%n", probe.faulted(),
          probe.toVerdict().count(),
          ms(probe.toVerdict().quantile(0.5)), ms(probe.toVerdict().quantile(0.99)), ms(probe.toVerdict().max()),
          probe.toGate().count(), ms(probe.toGate().quantile(0.5)), ms(probe.toGate().quantile(0.99)),
          ms(probe.toGate().max()), stats.previews.sum(), stats.previewsFailed.sum(),
          ms(stats.previewAnswered.quantile(0.5)), ms(stats.previewAnswered.max()), probe.watchError() == null ? "" : " (a watch ended: " + probe.watchError() + ")");
    }
    if (lost == 0) {
      out.println("lost 0: every batch made was acknowledged");
    } else {
      out.printf(Locale.ROOT, "LOST %,d batches: made but not acknowledged within --drain %s%n", lost, human(settings.drain()));
    }
    out.flush();
    return new Result(made, acked, lost, stats.heldBack.sum());
  }

  /** The report lines. */
  private final class Reporter {
    private final LoadStats stats;
    private final List<SimulatedAgent> agents;
    private final long start;
    private long lastSent;
    private long lastAcked;
    private long lastAt;

    Reporter(LoadStats stats, List<SimulatedAgent> agents, long start) {
      this.stats = stats;
      this.agents = agents;
      this.start = start;
      this.lastAt = start;
    }

    /** Reports every interval until {@code end}; returns the acknowledgements counted by then. */
    long until(long end) throws InterruptedException {
      while (System.nanoTime() - end < 0) {
        sleepUntil(Math.min(end, System.nanoTime() + settings.report().toNanos()));
        line();
      }
      return stats.acknowledged.sum();
    }

    /** Reports every interval until nothing is unacknowledged or {@code end}. */
    void untilDrained(long end) throws InterruptedException {
      while (unacknowledged() > 0 && System.nanoTime() - end < 0) {
        long next = Math.min(end, System.nanoTime() + settings.report().toNanos());
        while (unacknowledged() > 0 && System.nanoTime() - next < 0) {
          Thread.sleep(20);
        }
        line();
      }
    }

    private long unacknowledged() {
      long n = 0;
      for (SimulatedAgent a : agents) {
        n += a.unacknowledged();
      }
      return n;
    }

    private void line() {
      long now = System.nanoTime();
      double seconds = Math.max(1e-9, (now - lastAt) / 1e9);
      long sent = stats.sent.sum();
      long acked = stats.acknowledged.sum();
      int connected = 0;
      long backlog = 0;
      for (SimulatedAgent a : agents) {
        connected += a.connected() ? 1 : 0;
        backlog += a.unacknowledged();
      }
      LatencyHistogram h = stats.takeInterval();
      out.printf(Locale.ROOT, "%6.1fs  sent %,8.0f/s  acked %,8.0f/s  ack p50 %s p99 %s max %s  backlog %,d  connected %,d/%,d"
              + "  refused %,d  broken %,d  held back %,d%n", (now - start) / 1e9, (sent - lastSent) / seconds,
          (acked - lastAcked) / seconds, ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.max()), backlog, connected,
          agents.size(), stats.refused.sum(), stats.broken.sum(), stats.heldBack.sum());
      out.flush();
      lastSent = sent;
      lastAcked = acked;
      lastAt = now;
    }

    private void sleepUntil(long deadline) throws InterruptedException {
      long wait;
      while ((wait = deadline - System.nanoTime()) > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      }
    }
  }

  static String ms(long micros) {
    return micros < 10_000 ? String.format(Locale.ROOT, "%.1f ms", micros / 1000.0)
        : String.format(Locale.ROOT, "%,d ms", Math.round(micros / 1000.0));
  }

  static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
