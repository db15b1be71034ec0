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

  /**
   * Returns the text every match must start with: the literal characters after a leading {@code ^}
   * of {@code regex} (e.g. {@code "NVRM: Xid "} for {@code ^NVRM: Xid \(...}), or "" when there is
   * none or the regex has an alternative outside any group (where the {@code ^} binds one branch
   * only). A line that does not start with it cannot match, so the matcher need not run.
   */
  public static String literalPrefix(String regex) {
    if (!regex.startsWith("^") || hasTopLevelAlternative(regex)) {
      return "";
    }
    StringBuilder prefix = new StringBuilder();
    for (int i = 1; i < regex.length(); i++) {
      char c = regex.charAt(i);
      if (Character.isLetterOrDigit(c) || " :,-_/=@#%!'\"<>~&;".indexOf(c) >= 0) {
        prefix.append(c);
      } else {
        // a quantifier applies to the character before it, which is then not certain to be there
        if (c == '?' || c == '*' || c == '{') {
          prefix.setLength(Math.max(0, prefix.length() - 1));
        }
        break;
      }
    }
    return prefix.toString();
  }

  private static boolean hasTopLevelAlternative(String regex) {
    int depth = 0;
    boolean inClass = false;
    for (int i = 0; i < regex.length(); i++) {
      char c = regex.charAt(i);
      if (c == '\\') {
        i++;
      } else if (inClass) {
        inClass = c != ']';
      } else if (c == '[') {
        inClass = true;
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == '|' && depth == 0) {
        return true;
      }
    }
    return false;
  }
}
