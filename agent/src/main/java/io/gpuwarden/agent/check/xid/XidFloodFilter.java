package io.gpuwarden.agent.check.xid;

import io.gpuwarden.proto.v1.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps Xid floods off the wire: of the repeats of one Xid on one GPU within {@code window}, only
 * the first is forwarded; the next one after the window is forwarded with the number suppressed in
 * between. (One node has been seen logging ~800,000 lines of one Xid.) Checks still see every
 * occurrence and count them; only forwarding is thinned. Other events pass untouched.
 *
 * <p>Not thread-safe: used by the sampling loop.
 */
public final class XidFloodFilter {
  private final Duration window;
  private final Map<String, Window> windows = new HashMap<>();

  private static final class Window {
    Instant start;
    long suppressed;
  }

  /** Creates a filter with the given window. */
  public XidFloodFilter(Duration window) {
    this.window = window;
  }

  /** Returns the events to forward, in order. */
  public List<Event> filter(List<Event> events, Instant now) {
    List<Event> out = new ArrayList<>(events.size());
    for (Event e : events) {
      if (!e.hasXid()) {
        out.add(e);
        continue;
      }
      String key = (e.getComponent().getGpuUuid().isEmpty() ? e.getComponent().getPciBusId() : e.getComponent().getGpuUuid())
          + "/" + e.getXid().getXid();
      Window w = windows.get(key);
      if (w == null || !now.isBefore(w.start.plus(window))) {
        Event forwarded = e;
        if (w != null && w.suppressed > 0) {
          forwarded = e.toBuilder().setMessage(e.getMessage() + " (" + w.suppressed + " repeats suppressed in the "
              + window.toSeconds() + " s before)").build();
        }
        Window fresh = new Window();
        fresh.start = now;
        windows.put(key, fresh);
        out.add(forwarded);
      } else {
        w.suppressed++;
      }
    }
    windows.values().removeIf(w -> w.suppressed == 0 && !now.isBefore(w.start.plus(window.multipliedBy(10))));
    return out;
  }
}
