package io.gpuwarden.agent.source;

import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.SourceError;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns repeated read failures of a source into events: one when a failure starts or changes, one
 * when it recovers, none while it stays the same. A failing read every second thus costs one event,
 * not one per second.
 *
 * <p>Not thread-safe: each source owns one and calls it from its sampling thread.
 */
public final class SourceErrorTracker {
  private final String source;
  private final Clock clock;
  private final Map<String, String> failing = new HashMap<>();
  private final List<Event> pending = new ArrayList<>();

  /** Creates a tracker for the source named {@code source} (e.g. {@code "nvml"}). */
  public SourceErrorTracker(String source, Clock clock) {
    this.source = source;
    this.clock = clock;
  }

  /** Records that {@code key} (e.g. {@code "GPU-1.nvmlDeviceGetPowerUsage"}) failed with {@code error}. */
  public void failed(String key, Component component, String error) {
    String previous = failing.put(key, error);
    if (!error.equals(previous)) {
      pending.add(event(component, error, false));
    }
  }

  /** Records that {@code key} read fine; emits a recovery event if it was failing. */
  public void succeeded(String key, Component component) {
    String previous = failing.remove(key);
    if (previous != null) {
      pending.add(event(component, "recovered from: " + previous, true));
    }
  }

  /**
   * Records the failures of one read of everything under {@code prefix}: each key in
   * {@code failingNow} (relative to the prefix) failed with its error; every other key under the
   * prefix that was failing has recovered.
   */
  public void reconcile(String prefix, Map<String, String> failingNow, Component component) {
    failingNow.forEach((k, error) -> failed(prefix + k, component, error));
    for (String key : List.copyOf(failing.keySet())) {
      if (key.startsWith(prefix) && !failingNow.containsKey(key.substring(prefix.length()))) {
        succeeded(key, component);
      }
    }
  }

  /** Returns and clears the events produced since the last call. */
  public List<Event> drainEvents() {
    List<Event> out = List.copyOf(pending);
    pending.clear();
    return out;
  }

  /** Returns how many keys are failing now. */
  public int failingCount() {
    return failing.size();
  }

  private Event event(Component component, String error, boolean recovered) {
    return Event.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setTime(ProtoTime.of(clock.instant()))
        .setSeverity(recovered ? EventSeverity.EVENT_SEVERITY_INFO : EventSeverity.EVENT_SEVERITY_WARNING)
        .setComponent(component.getKind() == ComponentKind.COMPONENT_KIND_UNSPECIFIED
            ? Component.newBuilder().setKind(ComponentKind.COMPONENT_KIND_SOURCE).setSource(source).build()
            : component)
        .setMessage(source + ": " + error)
        .setAction(recovered ? SuggestedAction.SUGGESTED_ACTION_NONE : SuggestedAction.SUGGESTED_ACTION_CHECK_CONFIGURATION)
        .setSourceError(SourceError.newBuilder().setSource(source).setError(error).setRecovered(recovered))
        .build();
  }
}
