package io.gpuwarden.agent.check.xid;

import io.gpuwarden.agent.check.HostSnapshot;
import io.gpuwarden.common.ProtoTime;
import io.gpuwarden.proto.v1.Component;
import io.gpuwarden.proto.v1.Event;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.SuggestedAction;
import io.gpuwarden.proto.v1.XidEvent;
import java.time.Instant;
import java.util.UUID;

/** Builds Xid {@link Event}s judged by a {@link XidPolicy}: severity and action from the Xid's rule. */
public final class XidEvents {
  private final XidPolicy policy;

  /** Creates the builder over {@code policy}. */
  public XidEvents(XidPolicy policy) {
    this.policy = policy;
  }

  /** Returns true when the policy ignores {@code xid}: no event is made for it. */
  public boolean ignored(int xid) {
    return policy.ignores(xid);
  }

  /**
   * Builds the event for {@code xid} on the GPU {@code component}.
   *
   * @param detail what the source knows (origin, PCI address, MIG instance, text)
   */
  public Event event(int xid, Component component, XidEvent detail, Instant time) {
    XidRule rule = policy.rule(xid);
    EventSeverity severity = switch (rule.state()) {
      case HEALTH_STATE_UNHEALTHY -> EventSeverity.EVENT_SEVERITY_CRITICAL;
      case HEALTH_STATE_DEGRADED -> EventSeverity.EVENT_SEVERITY_ERROR;
      default -> rule.action() == SuggestedAction.SUGGESTED_ACTION_NONE
          ? EventSeverity.EVENT_SEVERITY_INFO : EventSeverity.EVENT_SEVERITY_WARNING;
    };
    String where = component.getGpuUuid().isEmpty() ? "GPU at " + component.getPciBusId() : HostSnapshot.label(component);
    return Event.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setTime(ProtoTime.of(time))
        .setSeverity(severity)
        .setComponent(component)
        .setMessage("Xid " + xid + " (" + rule.mnemonic() + ") on " + where + (detail.getText().isEmpty() ? "" : ": " + detail.getText()))
        .setAction(rule.action())
        .setXid(detail.toBuilder().setXid(xid))
        .build();
  }
}
