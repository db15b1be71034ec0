package io.gpuwarden.collector.gate;

import io.gpuwarden.collector.security.TokenFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * The admin identities allowed to change the gate: a name per bearer token. Read from a file with
 * one {@code NAME TOKEN} pair per line ({@code #} comments and blank lines ignored), e.g.
 *
 * <pre>
 * # who   token (at least 16 characters)
 * alice   9f2c...e1
 * ci-bot  77ab...03
 * </pre>
 *
 * The format is {@link TokenFile}'s. The name is what the audit history records as the actor.
 */
public final class AdminTokens {
  private final TokenFile tokens;

  private AdminTokens(TokenFile tokens) {
    this.tokens = tokens;
  }

  /**
   * Loads {@code file}.
   *
   * @throws IllegalArgumentException naming the file and line when it is unreadable or malformed
   */
  public static AdminTokens load(Path file) {
    return new AdminTokens(TokenFile.load(file, "admin tokens"));
  }

  /**
   * Returns the tokens of {@code file}, creating it first (mode 0600) with one random token named
   * {@code admin} when it does not exist: a collector never runs with an open gate.
   */
  public static AdminTokens loadOrCreate(Path file) {
    if (!Files.exists(file)) {
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      try {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, "# gpuwarden admin tokens: NAME TOKEN per line\nadmin " + HexFormat.of().formatHex(random) + "\n",
            StandardCharsets.UTF_8);
        try {
          Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
          // not a POSIX file system; the file stays as created
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot create admin token file " + file + ": " + e.getMessage(), e);
      }
    }
    return load(file);
  }

  /** Returns tokens with one random token named {@code name}, kept only in memory (tests, the demo). */
  public static AdminTokens random(String name) {
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    return new AdminTokens(TokenFile.of(Map.of(HexFormat.of().formatHex(random), name)));
  }

  /** Returns a token of {@code name}, for a process that made these tokens itself (tests, the demo). */
  public Optional<String> tokenOf(String name) {
    return tokens.tokenOf(name);
  }

  /** Returns the identity of {@code token}, when it is one of these. */
  public Optional<String> identify(String token) {
    return tokens.identify(token);
  }
}
