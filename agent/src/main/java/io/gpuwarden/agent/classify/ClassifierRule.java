package io.gpuwarden.agent.classify;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One classifier rule: a pattern over a kernel message and what a match means. Every named group of
 * the pattern that matched is copied into the event's fields; some group names also have a meaning:
 * {@code pci} (a PCI address, normalised to NVML's long form for the component), {@code hca}, and for
 * {@link Kind#XID} rules {@code xid}, {@code gi}, {@code ci}, {@code pid}, {@code name}, {@code text},
 * for {@link Kind#SXID} rules {@code sxid}, {@code severity} ("Fatal" or not), {@code text}.
 *
 * @param name unique rule name, e.g. {@code pcie-aer-fatal}
 * @param kind what event the match becomes
 * @param pattern searched in the message (use {@code ^} to anchor)
 * @param severity event severity; ignored for XID rules (the Xid policy decides)
 * @param action suggested action; ignored for XID rules
 * @param component the kind of component the event is about, refined by the groups that matched
 * @param fields the pattern's named groups, in order
 */
public record ClassifierRule(String name, Kind kind, Pattern pattern, EventSeverity severity, SuggestedAction action,
    ComponentKind component, List<String> fields) {
  private static final Pattern GROUP_NAME = Pattern.compile("\\(\\?<([a-zA-Z][a-zA-Z0-9]*)>");

  /** What a match becomes. */
  public enum Kind {
    /** An {@code XidEvent}, judged by the Xid policy. */
    XID,
    /** An {@code SxidEvent}. */
    SXID,
    /** A {@code LogMatch}. */
    LOG
  }

  /** Validates and copies. */
  public ClassifierRule {
    requireNonNull(name, "name");
    requireNonNull(kind, "kind");
    requireNonNull(pattern, "pattern");
    requireNonNull(severity, "severity");
    requireNonNull(action, "action");
    requireNonNull(component, "component");
    fields = List.copyOf(fields);
    if (kind == Kind.XID && !fields.contains("xid")) {
      throw new IllegalArgumentException("xid rule " + name + " needs a named group 'xid'");
    }
    if (kind == Kind.SXID && !fields.contains("sxid")) {
      throw new IllegalArgumentException("sxid rule " + name + " needs a named group 'sxid'");
    }
  }

  /** Creates a rule whose fields are all the named groups of {@code regex}. */
  public static ClassifierRule of(String name, Kind kind, String regex, EventSeverity severity, SuggestedAction action,
      ComponentKind component) {
    List<String> groups = new ArrayList<>();
    Matcher m = GROUP_NAME.matcher(regex);
    while (m.find()) {
      if (!groups.contains(m.group(1))) {
        groups.add(m.group(1));
      }
    }
    return new ClassifierRule(name, kind, Pattern.compile(regex), severity, action, component, groups);
  }
}
