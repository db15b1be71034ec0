package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.feed.Change;
import io.gpuwarden.collector.feed.ChangeFeed;
import io.gpuwarden.proto.v1.GateStatus;
import java.util.HashMap;
import java.util.Map;

/**
 * Publishes gate status changes on the {@link ChangeFeed}: a node's status (with allocatability)
 * goes out when its state, hold, since or allocatability differs from what was last published of
 * it, so watchers hear every change and nothing else. Runs under the {@link ReleaseGate}'s lock.
 */
final class GatePublisher {
  private final ChangeFeed feed;
  private final Map<String, GateStatus> published = new HashMap<>();

  GatePublisher(ChangeFeed feed) {
    this.feed = feed;
  }

  /** Publishes {@code view} (a status with allocatability) when it changed. */
  void offer(GateStatus view) {
    GateStatus before = published.get(view.getNodeId());
    boolean changed = before == null || before.getState() != view.getState() || before.getAllocatable() != view.getAllocatable()
        || before.getHeld() != view.getHeld() || !before.getSince().equals(view.getSince());
    if (changed) {
      published.put(view.getNodeId(), view);
      feed.publish(new Change.GateChanged(view, before != null && before.getAllocatable()));
    }
  }
}
