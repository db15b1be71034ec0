package io.gpuwarden.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an admin token from a file in either of two forms:
 *
 * <ul>
 *   <li>the collector's {@code admin.tokens}: one {@code NAME TOKEN} pair per line, {@code #} comments and blank lines
 *       ignored (the format of {@code --admin-tokens}); the token named {@code NAME} is taken, by default the one named
 *       {@code admin}, or the only one in the file;
 *   <li>a file whose first line (after comments and blank lines) is the token itself.
 * </ul>
 */
final class AdminTokenFile {
  /** The name of the token a collector creates in its {@code admin.tokens}, taken when no name is asked for. */
  static final String DEFAULT_NAME = "admin";

  private AdminTokenFile() {}

  /**
   * Returns the token of {@code file}.
   *
   * @param source where the file was named, for messages ({@code --admin-token-file})
   * @param name the name to pick from a {@code NAME TOKEN} file, or {@code null} for the default
   * @throws AdminToken.Unreadable when the file cannot be read, holds no token, is malformed, or has no token of that name
   */
  static AdminToken.Credential read(Path file, String source, String name) {
    String where = "admin token file " + file + " (" + source + ")";
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new AdminToken.Unreadable("cannot read admin token file " + file + " (" + source + "): " + e);
    }
    Map<String, String> tokenByName = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length == 1 && tokenByName.isEmpty()) {
        if (name != null) {
          throw new AdminToken.Unreadable("--admin-name " + name + ": " + where + " holds a bare token, not NAME TOKEN lines");
        }
        return new AdminToken.Credential(AdminToken.check(fields[0], where), where);
      }
      if (fields.length != 2) {
        throw new AdminToken.Unreadable(where + " line " + (i + 1) + ": expected 'NAME TOKEN' (as in the collector's "
            + "admin.tokens) or just the token, got " + fields.length + " fields");
      }
      if (tokenByName.putIfAbsent(fields[0], fields[1]) != null) {
        throw new AdminToken.Unreadable(where + " line " + (i + 1) + ": the name " + fields[0] + " appears twice");
      }
    }
    if (tokenByName.isEmpty()) {
      throw new AdminToken.Unreadable(where + " holds no token");
    }
    String chosen = choose(tokenByName, name, where);
    return new AdminToken.Credential(AdminToken.check(tokenByName.get(chosen), where + ", name " + chosen),
        where + ", name " + chosen);
  }

  private static String choose(Map<String, String> tokenByName, String name, String where) {
    String names = String.join(", ", tokenByName.keySet());
    if (name != null) {
      if (!tokenByName.containsKey(name)) {
        throw new AdminToken.Unreadable(where + " has no token named " + name + "; names in it: " + names);
      }
      return name;
    }
    if (tokenByName.containsKey(DEFAULT_NAME)) {
      return DEFAULT_NAME;
    }
    if (tokenByName.size() == 1) {
      return tokenByName.keySet().iterator().next();
    }
    throw new AdminToken.Unreadable(where + " has tokens of " + names + " and none named " + DEFAULT_NAME
        + "; choose one with --admin-name NAME");
  }
}
