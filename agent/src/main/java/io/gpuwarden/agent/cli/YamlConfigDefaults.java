package io.gpuwarden.agent.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * Takes option defaults from the YAML file named by a command's {@code --config} option: a key is
 * an option's long name without the dashes ({@link ConfigKeys}), its value becomes the option's
 * default, and a flag on the command line wins. Repeatable options take a list (or one value);
 * map options ({@code --label}) take a map or a list of {@code KEY=VALUE}. A key left empty is not
 * set.
 *
 * <p>The whole file is checked when the first default is asked for: a key that no agent command
 * knows, or a value its option cannot convert, fails the command line with the file, the key and
 * the known keys, so a typo is never silently ignored.
 *
 * <pre>{@code
 * new CommandLine(new AgentMain()).setDefaultValueProvider(new YamlConfigDefaults());
 * }</pre>
 *
 * <p>picocli applies defaults after the arguments are parsed, so {@code --config} is already set
 * when the first default is asked for. Thread-safe.
 */
public final class YamlConfigDefaults implements CommandLine.IDefaultValueProvider {
  /** Each command's checked file; reloaded when another file is named or the file changed. */
  private final Map<CommandSpec, Defaults> loaded = new HashMap<>();

  /**
   * A checked file.
   *
   * @param values by key: the text of a single-valued option (picocli converts it), or the
   *     already-converted collection of a repeatable option (picocli does not split lists)
   */
  private record Defaults(Path file, FileTime modified, Map<String, Object> values) {}

  @Override
  public synchronized String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    Optional<String> key = ConfigKeys.key(option);
    OptionSpec configOption = option.command().findOption(ConfigKeys.CONFIG_OPTION);
    if (key.isEmpty() || configOption == null || configOption.getValue() == null) {
      return null;
    }
    Object value = defaults(option.command(), Path.of(configOption.getValue().toString())).values().get(key.get());
    if (value == null || value instanceof String) {
      return (String) value;
    }
    option.setValue(value);
    return null;
  }

  private Defaults defaults(CommandSpec command, Path file) {
    FileTime modified = modified(command, file);
    Defaults d = loaded.get(command);
    if (d == null || !d.file().equals(file) || !d.modified().equals(modified)) {
      d = new Defaults(file, modified, check(command, file));
      loaded.put(command, d);
    }
    return d;
  }

  private static FileTime modified(CommandSpec command, Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      throw new ParameterException(command.commandLine(), "cannot read config " + file + ": " + e);
    }
  }

  private static Map<String, Object> check(CommandSpec command, Path file) {
    Map<String, Object> raw;
    try {
      raw = YamlConfigFile.read(file);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(command.commandLine(), e.getMessage(), e);
    }
    Map<String, OptionSpec> own = ConfigKeys.of(command);
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : raw.entrySet()) {
      String key = e.getKey();
      if (!ConfigKeys.known(command).contains(key)) {
        throw refused(command, file, key, "unknown key");
      }
      OptionSpec option = own.get(key);
      if (option == null || e.getValue() == null) {
        continue; // another agent command's key (one file serves them all), or left empty
      }
      try {
        List<String> texts = texts(option, e.getValue());
        Object converted = convert(command, option, texts);
        out.put(key, option.isMultiValue() ? converted : texts.get(0));
      } catch (IllegalArgumentException | ParameterException ex) {
        throw refused(command, file, key, ex.getMessage());
      }
    }
    return out;
  }

  private static ParameterException refused(CommandSpec command, Path file, String key, String why) {
    return new ParameterException(command.commandLine(), "config " + file + ": key '" + key + "': " + why
        + "; known keys: " + String.join(", ", ConfigKeys.known(command)));
  }

  /** Turns a YAML value into the texts the option would get on the command line, one per occurrence. */
  private static List<String> texts(OptionSpec option, Object value) {
    List<String> out = new ArrayList<>();
    if (value instanceof Map<?, ?> map) {
      if (!Map.class.isAssignableFrom(option.type())) {
        throw new IllegalArgumentException("expected " + shape(option) + ", found a map");
      }
      map.forEach((k, v) -> out.add(scalar(k) + "=" + scalar(v)));
    } else if (value instanceof List<?> list) {
      if (!option.isMultiValue()) {
        throw new IllegalArgumentException("expected " + shape(option) + ", found a list");
      }
      list.forEach(v -> out.add(scalar(v)));
    } else {
      out.add(scalar(value));
    }
    return out;
  }

  private static String shape(OptionSpec option) {
    if (Map.class.isAssignableFrom(option.type())) {
      return "a map or a list of KEY=VALUE";
    }
    return option.isMultiValue() ? "a list or one value" : "one value (" + option.paramLabel() + ")";
  }

  private static String scalar(Object v) {
    if (v instanceof Map || v instanceof Iterable || v == null) {
      throw new IllegalArgumentException("expected a plain value, found " + (v == null ? "nothing" : "a "
          + YamlConfigFile.describe(v)));
    }
    return v.toString();
  }

  /**
   * Converts {@code texts} exactly as the command line would, through a one-option twin of
   * {@code option} (same type, converters and split), so a bad value fails here, with its key.
   */
  private static Object convert(CommandSpec command, OptionSpec option, List<String> texts) {
    OptionSpec twin = OptionSpec.builder(option.longestName()).type(option.type())
        .auxiliaryTypes(option.auxiliaryTypes()).converters(option.converters()).splitRegex(option.splitRegex())
        .arity("1").build();
    CommandSpec spec = CommandSpec.create().addOption(twin);
    spec.parser().caseInsensitiveEnumValuesAllowed(command.parser().caseInsensitiveEnumValuesAllowed());
    List<String> args = new ArrayList<>();
    texts.forEach(t -> args.add(option.longestName() + "=" + t)); // '=': a value like -1 is never taken for an option
    new CommandLine(spec).parseArgs(args.toArray(String[]::new));
    return twin.getValue();
  }
}
