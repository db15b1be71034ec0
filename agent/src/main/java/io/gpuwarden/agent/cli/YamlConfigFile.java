package io.gpuwarden.agent.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads the agent's YAML config: one mapping of option keys to values. Only plain YAML (scalars,
 * lists, maps) is accepted, never Java types, and a key given twice is refused.
 *
 * <pre>{@code
 * Map<String, Object> values = YamlConfigFile.read(Path.of("/etc/gpuwarden/agent.yaml"));
 * }</pre>
 */
public final class YamlConfigFile {
  private YamlConfigFile() {}

  /**
   * Returns the top-level mapping of {@code file} in file order; an empty file is an empty map.
   *
   * @throws IllegalArgumentException naming the file, when it cannot be read or is not a mapping
   */
  public static Map<String, Object> read(Path file) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    Object root;
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      root = new Yaml(new SafeConstructor(options)).load(r);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config " + file + ": " + e, e);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("config " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    if (root == null) {
      return Map.of();
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("config " + file + ": expected 'key: value' lines at the top level, found a "
          + describe(root));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      if (!(k instanceof String key)) {
        throw new IllegalArgumentException("config " + file + ": key " + k + " is not a name");
      }
      out.put(key, v);
    });
    return out;
  }

  /** Names the YAML type of {@code value} for messages. */
  static String describe(Object value) {
    if (value instanceof Map) {
      return "map";
    }
    if (value instanceof Iterable) {
      return "list";
    }
    return value instanceof String ? "string" : value.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }
}
