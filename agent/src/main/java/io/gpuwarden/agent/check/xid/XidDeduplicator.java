package io.gpuwarden.agent.check.xid;

import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.XidOrigin;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Makes one Xid occurrence count once when both NVML's event and the kernel's log line report it.
 * Each kernel-log Xid is paired with one NVML Xid of the same number on the same GPU that arrived
 * within the window (and the other way round); the second of a pair is dropped. Repeats from one
 * origin are never paired with each other: five NVML events and five kernel lines of Xid 13 are
 * five occurrences.
 *
 * <p>Arrival time (when the agent took the event) is compared, not the logged time: a kernel
 * timestamp is microseconds since boot and turning it into wall time is off by up to a second or
 * more after long uptimes.
 *
 * <p>Not thread-safe: called from the sampling cycle.
 */
public final class XidDeduplicator {
  /** Default pairing window. */
  public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);

  private final Duration window;
  private final Map<String, Deque<Seen>> recent = new HashMap<>();
  private long duplicates;

  private static final class Seen {
    final Instant arrived;
    final boolean fromKernel;
    boolean paired;

    Seen(Instant arrived, boolean fromKernel) {
      this.arrived = arrived;
      this.fromKernel = fromKernel;
    }
  }

  /** Creates a deduplicator pairing events that arrive within {@code window} of each other. */
  public XidDeduplicator(Duration window) {
    this.window = window;
  }

  /** Returns {@code events} without the Xid events that repeat an occurrence already reported by the other origin. */
  public List<Event> filter(List<Event> events, Instant arrived) {
    prune(arrived);
    List<Event> out = new ArrayList<>(events.size());
    for (Event e : events) {
      if (!e.hasXid()) {
        out.add(e);
        continue;
      }
      boolean fromKernel = e.getXid().getOrigin() == XidOrigin.XID_ORIGIN_KERNEL_LOG;
      Deque<Seen> seen = recent.computeIfAbsent(key(e), k -> new ArrayDeque<>());
      Seen partner = null;
      for (Seen s : seen) {
        if (!s.paired && s.fromKernel != fromKernel) {
          partner = s;
          break;
        }
      }
      if (partner != null) {
        partner.paired = true;
        duplicates++;
      } else {
        seen.addLast(new Seen(arrived, fromKernel));
        out.add(e);
      }
    }
    return out;
  }

  /** Returns how many events were dropped as the second report of one occurrence. */
  public long duplicates() {
    return duplicates;
  }

  private void prune(Instant now) {
    Instant oldest = now.minus(window);
    for (Iterator<Deque<Seen>> it = recent.values().iterator(); it.hasNext(); ) {
      Deque<Seen> d = it.next();
      while (!d.isEmpty() && d.peekFirst().arrived.isBefore(oldest)) {
        d.pollFirst();
      }
      if (d.isEmpty()) {
        it.remove();
      }
    }
  }

  /** GPU (UUID when known, else PCI address) and Xid number. */
  private static String key(Event e) {
    String gpu = !e.getComponent().getGpuUuid().isEmpty() ? e.getComponent().getGpuUuid()
        : !e.getXid().getPciBusId().isEmpty() ? e.getXid().getPciBusId() : e.getComponent().getPciBusId();
    return gpu + "/" + e.getXid().getXid();
  }
}
