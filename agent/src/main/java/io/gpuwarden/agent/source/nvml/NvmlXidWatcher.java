package io.gpuwarden.agent.source.nvml;

import io.gpuwarden.agent.check.xid.XidEvents;
import io.gpuwarden.nvml.NvmlDevice;
import io.gpuwarden.nvml.NvmlEvent;
import io.gpuwarden.nvml.NvmlEventSet;
import io.gpuwarden.nvml.NvmlEventType;
import io.gpuwarden.nvml.NvmlException;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.GpuInfo;
import io.gpuwarden.proto.v1.XidEvent;
import io.gpuwarden.proto.v1.XidOrigin;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * Waits for NVML's Xid events (an event set registered for {@code XidCriticalError} on every GPU
 * that supports it) on its own thread, and queues them as judged {@link Event}s. {@code onXid}
 * runs after each, so the agent can report an Xid at once instead of at its next tick.
 *
 * <p>The queue is bounded; when an Xid storm outruns the sampling loop the oldest events are
 * dropped and counted (the Xid check's state is fed from what is kept, and a storm of one Xid is
 * one condition anyway).
 */
public final class NvmlXidWatcher implements AutoCloseable {
  private static final Logger log = Logger.getLogger(NvmlXidWatcher.class.getName());
  /** Events kept between two sampling cycles. */
  public static final int QUEUE_LIMIT = 10_000;
  /**
   * How long one wait blocks: an event ends it at once, so this only bounds how long {@link #close}
   * takes; longer means fewer idle wake-ups.
   */
  private static final Duration WAIT = Duration.ofSeconds(2);

  private final NvmlGpuSource source;
  private final XidEvents xids;
  private final Clock clock;
  private final Runnable onXid;
  private final Deque<Event> queue = new ArrayDeque<>();
  private final Thread thread;
  private volatile boolean closed;
  private long dropped;
  private volatile int registered;

  /** Creates the watcher; {@link #start()} begins waiting. */
  public NvmlXidWatcher(NvmlGpuSource source, XidEvents xids, Clock clock, Runnable onXid) {
    this.source = source;
    this.xids = xids;
    this.clock = clock;
    this.onXid = onXid;
    this.thread = new Thread(this::run, "gpuwarden-nvml-events");
    this.thread.setDaemon(true);
  }

  /** Starts the waiting thread. */
  public void start() {
    thread.start();
  }

  /** Returns and clears the queued events. */
  public synchronized List<Event> drain() {
    List<Event> out = new ArrayList<>(queue);
    queue.clear();
    return out;
  }

  /** Returns how many events were dropped because the queue was full. */
  public synchronized long dropped() {
    return dropped;
  }

  /** Returns how many GPUs are registered for Xid events. */
  public int registeredGpus() {
    return registered;
  }

  private void run() {
    Optional<NvmlEventSet> set = Optional.empty();
    try {
      NvmlEventSet s = source.nvml().createEventSet();
      set = Optional.of(s);
      List<NvmlDevice> devices = source.devices();
      for (int i = 0; i < devices.size(); i++) {
        NvmlDevice d = devices.get(i);
        try {
          long supported = d.supportedEventTypes().orElse(0L);
          if ((supported & NvmlEventType.XID_CRITICAL_ERROR) != 0 && s.register(d, NvmlEventType.XID_CRITICAL_ERROR)) {
            registered++;
          } else {
            log.info("GPU " + i + " does not support Xid events through NVML; the kernel log remains");
          }
        } catch (NvmlException e) {
          log.warning("cannot register GPU " + i + " for Xid events: " + e.getMessage());
        }
      }
      while (!closed) {
        Optional<NvmlEvent> e = s.await(WAIT);
        e.ifPresent(this::accept);
      }
    } catch (NvmlException e) {
      log.warning("NVML Xid events unavailable: " + e.getMessage());
    } finally {
      set.ifPresent(NvmlEventSet::close);
    }
  }

  private void accept(NvmlEvent e) {
    if ((e.eventType() & NvmlEventType.XID_CRITICAL_ERROR) == 0) {
      return;
    }
    int xid = (int) e.eventData();
    if (xids.ignored(xid)) {
      return;
    }
    GpuInfo info = source.inventory().stream().filter(g -> g.getUuid().equals(e.uuid())).findFirst()
        .orElse(GpuInfo.newBuilder().setUuid(e.uuid()).setIndex(e.deviceIndex()).build());
    Component c = Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_GPU).setGpuUuid(info.getUuid())
        .setGpuIndex(info.getIndex()).setPciBusId(info.getPciBusId()).build();
    XidEvent.Builder detail = XidEvent.newBuilder().setXid(xid).setOrigin(XidOrigin.XID_ORIGIN_NVML)
        .setPciBusId(info.getPciBusId());
    e.gpuInstanceId().ifPresent(detail::setGpuInstanceId);
    e.computeInstanceId().ifPresent(detail::setComputeInstanceId);
    Event event = xids.event(xid, c, detail.build(), clock.instant());
    synchronized (this) {
      if (queue.size() >= QUEUE_LIMIT) {
        queue.removeFirst();
        dropped++;
      }
      queue.addLast(event);
    }
    log.warning(event.getMessage());
    onXid.run();
  }

  /** Stops waiting (within one wait period). */
  @Override
  public void close() {
    closed = true;
    try {
      thread.join(WAIT.multipliedBy(3).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
