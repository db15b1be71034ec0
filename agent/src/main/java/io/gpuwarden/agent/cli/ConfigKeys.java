package io.gpuwarden.agent.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The keys of the agent's YAML config file, derived from picocli's model so that an option added
 * later is settable from the file without touching this class: each key is an option's long name
 * without the leading dashes ({@code --node-id} is {@code node-id}).
 *
 * <p>One file serves the daemon and {@code agent check}, so a key is known when any command of the
 * tree has it; a command applies only its own keys.
 */
public final class ConfigKeys {
  /** The option naming the file itself; it cannot be set from the file. */
  public static final String CONFIG_OPTION = "--config";

  private ConfigKeys() {}

  /** Returns the key of {@code option}, or empty for options a file cannot set (help, version, the file itself). */
  public static Optional<String> key(OptionSpec option) {
    String name = option.longestName();
    if (option.usageHelp() || option.versionHelp() || name.equals(CONFIG_OPTION) || !name.startsWith("--")) {
      return Optional.empty();
    }
    return Optional.of(name.substring(2));
  }

  /** Returns the options of {@code command} a file can set, by key, in declaration order. */
  public static Map<String, OptionSpec> of(CommandSpec command) {
    Map<String, OptionSpec> out = new LinkedHashMap<>();
    for (OptionSpec o : command.options()) {
      key(o).ifPresent(k -> out.put(k, o));
    }
    return out;
  }

  /** Returns every key of every command in the tree that holds {@code command}, sorted. */
  public static SortedSet<String> known(CommandSpec command) {
    SortedSet<String> out = new TreeSet<>();
    Deque<CommandSpec> todo = new ArrayDeque<>();
    todo.add(command.root());
    while (!todo.isEmpty()) {
      CommandSpec c = todo.pop();
      out.addAll(of(c).keySet());
      c.subcommands().values().forEach(sub -> todo.add(sub.getCommandSpec()));
    }
    return out;
  }
}
