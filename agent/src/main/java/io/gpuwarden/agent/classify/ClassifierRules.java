package io.gpuwarden.agent.classify;

import io.gpuwarden.proto.v1.ComponentKind;
import io.gpuwarden.proto.v1.EventSeverity;
import io.gpuwarden.proto.v1.SuggestedAction;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * An ordered, immutable list of {@link ClassifierRule}s read from the rules-file format described in
 * the header of the default file {@code io/gpuwarden/agent/classify/kernel-rules.txt}. Operators add
 * their own file with {@link #overriddenBy}: its rules are tried first, a rule with a default's name
 * replaces that default, and {@code NAME off} removes one.
 *
 * <pre>{@code
 * ClassifierRules rules = ClassifierRules.defaults().overriddenBy(ClassifierRules.load(Path.of("/etc/gpuwarden/rules.txt")));
 * }</pre>
 */
public final class ClassifierRules {
  /** Classpath location of the default rules. */
  public static final String DEFAULT_RESOURCE = "/io/gpuwarden/agent/classify/kernel-rules.txt";
  private static final Pattern MACRO = Pattern.compile("\\{\\{([A-Za-z][A-Za-z0-9_]*)}}");

  private final List<ClassifierRule> rules;
  private final Set<String> disabled;

  private ClassifierRules(List<ClassifierRule> rules, Set<String> disabled) {
    this.rules = List.copyOf(rules);
    this.disabled = Set.copyOf(disabled);
  }

  /** Returns the built-in rules. */
  public static ClassifierRules defaults() {
    try (InputStream in = ClassifierRules.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("default classifier rules missing from the classpath: " + DEFAULT_RESOURCE);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), DEFAULT_RESOURCE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + DEFAULT_RESOURCE, e);
    }
  }

  /** Reads a rules file. */
  public static ClassifierRules load(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /**
   * Parses rules text.
   *
   * @param origin named in errors, e.g. the file name
   * @throws IllegalArgumentException naming the origin, line number and what is wrong
   */
  public static ClassifierRules parse(String text, String origin) {
    Map<String, String> macros = new LinkedHashMap<>();
    Map<String, ClassifierRule> rules = new LinkedHashMap<>();
    Set<String> disabled = new LinkedHashSet<>();
    String[] lines = text.split("\\R");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = origin + ":" + (i + 1) + ": ";
      String[] t = line.split("\\s+", 6);
      if (t[0].equals("define")) {
        String[] d = line.split("\\s+", 3);
        if (d.length < 3) {
          throw new IllegalArgumentException(where + "'define' needs a name and a regex");
        }
        macros.put(d[1], expand(d[2], macros, where));
        continue;
      }
      if (t.length == 2 && t[1].equals("off")) {
        disabled.add(t[0]);
        continue;
      }
      if (t.length < 6) {
        throw new IllegalArgumentException(where + "expected 'name kind severity action component regex', got: " + line);
      }
      if (rules.containsKey(t[0])) {
        throw new IllegalArgumentException(where + "duplicate rule name " + t[0]);
      }
      try {
        ClassifierRule.Kind kind = ClassifierRule.Kind.valueOf(t[1].toUpperCase(Locale.ROOT));
        boolean fromPolicy = kind == ClassifierRule.Kind.XID;
        EventSeverity severity = fromPolicy && t[2].equals("-") ? EventSeverity.EVENT_SEVERITY_UNSPECIFIED
            : EventSeverity.valueOf("EVENT_SEVERITY_" + t[2].toUpperCase(Locale.ROOT));
        SuggestedAction action = fromPolicy && t[3].equals("-") ? SuggestedAction.SUGGESTED_ACTION_UNSPECIFIED
            : SuggestedAction.valueOf("SUGGESTED_ACTION_" + t[3].toUpperCase(Locale.ROOT));
        ComponentKind component = ComponentKind.valueOf("COMPONENT_KIND_" + t[4].toUpperCase(Locale.ROOT));
        rules.put(t[0], ClassifierRule.of(t[0], kind, expand(t[5], macros, where), severity, action, component));
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(where + "rule " + t[0] + " has a bad regex: " + e.getDescription(), e);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + "rule " + t[0] + ": " + e.getMessage(), e);
      }
    }
    return new ClassifierRules(new ArrayList<>(rules.values()), disabled);
  }

  /** Returns these rules with {@code operator}'s applied: its rules first, same names replaced, {@code off} names removed. */
  public ClassifierRules overriddenBy(ClassifierRules operator) {
    Set<String> drop = new LinkedHashSet<>(operator.disabled);
    operator.rules.forEach(r -> drop.add(r.name()));
    List<ClassifierRule> merged = new ArrayList<>();
    operator.rules.stream().filter(r -> !operator.disabled.contains(r.name())).forEach(merged::add);
    rules.stream().filter(r -> !drop.contains(r.name())).forEach(merged::add);
    return new ClassifierRules(merged, Set.of());
  }

  /** Returns the rules in the order they are tried. */
  public List<ClassifierRule> rules() {
    return rules;
  }

  private static String expand(String regex, Map<String, String> macros, String where) {
    Matcher m = MACRO.matcher(regex);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = macros.get(m.group(1));
      if (value == null) {
        throw new IllegalArgumentException(where + "undefined {{" + m.group(1) + "}}");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
