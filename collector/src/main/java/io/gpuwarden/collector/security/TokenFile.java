package io.gpuwarden.collector.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Bearer tokens and whom they identify, read from a file with one {@code NAME TOKEN} pair per line
 * ({@code #} comments and blank lines ignored). Shared by the admin tokens of the gate and the
 * agents' tokens. Tokens are compared in constant time.
 *
 * <pre>
 * # name   token (at least 16 characters)
 * gpu-001  9f2c...e1
 * </pre>
 */
public final class TokenFile {
  /** Shortest token accepted: shorter ones are guessable. */
  public static final int MIN_TOKEN_LENGTH = 16;

  private final Map<String, String> nameByToken;

  private TokenFile(Map<String, String> nameByToken) {
    this.nameByToken = Map.copyOf(nameByToken);
  }

  /** Returns tokens from a map of token to name (tests, in-memory tokens). */
  public static TokenFile of(Map<String, String> nameByToken) {
    return new TokenFile(nameByToken);
  }

  /**
   * Loads {@code file}; {@code what} names its kind in errors, e.g. {@code admin tokens}.
   *
   * @throws IllegalArgumentException naming the file and line when it is unreadable, malformed or empty
   */
  public static TokenFile load(Path file, String what) {
    Map<String, String> tokens = new LinkedHashMap<>();
    try {
      int n = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        n++;
        String t = line.strip();
        if (t.isEmpty() || t.startsWith("#")) {
          continue;
        }
        String[] parts = t.split("\\s+");
        if (parts.length != 2) {
          throw new IllegalArgumentException(file + " line " + n + ": expected 'NAME TOKEN', got " + parts.length + " fields");
        }
        if (parts[1].length() < MIN_TOKEN_LENGTH) {
          throw new IllegalArgumentException(file + " line " + n + ": the token of " + parts[0] + " is shorter than "
              + MIN_TOKEN_LENGTH + " characters");
        }
        if (tokens.put(parts[1], parts[0]) != null) {
          throw new IllegalArgumentException(file + " line " + n + ": token of " + parts[0] + " is used twice");
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
    }
    if (tokens.isEmpty()) {
      throw new IllegalArgumentException(file + ": no " + what);
    }
    return new TokenFile(tokens);
  }

  /** Returns a token of {@code name}, for a process that made these tokens itself (tests, the demo). */
  public Optional<String> tokenOf(String name) {
    return nameByToken.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey).findFirst();
  }

  /** Returns whom {@code token} identifies, when it is one of these; every token is compared, in constant time. */
  public Optional<String> identify(String token) {
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    String found = null;
    for (Map.Entry<String, String> e : nameByToken.entrySet()) {
      if (MessageDigest.isEqual(given, e.getKey().getBytes(StandardCharsets.UTF_8))) {
        found = e.getValue();
      }
    }
    return Optional.ofNullable(found);
  }
}
