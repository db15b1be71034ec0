package io.gpuwarden.cli;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * The admin identity of the gate's mutating commands, sent as {@code authorization: Bearer TOKEN}.
 *
 * <p>The token is the first line of {@code --admin-token-file}, else {@code $GPUWARDEN_ADMIN_TOKEN},
 * else the first line of the file named by {@code $GPUWARDEN_ADMIN_TOKEN_FILE}. Without one the call
 * is still made, so the collector's refusal (UNAUTHENTICATED) is what the operator sees.
 *
 * <pre>{@code
 * GateServiceBlockingStub stub = adminToken.attach(GateServiceGrpc.newBlockingStub(channel));
 * }</pre>
 */
public final class AdminToken {
  /** Environment variable holding the token itself. */
  public static final String ENV_TOKEN = "GPUWARDEN_ADMIN_TOKEN";
  /** Environment variable naming a file whose first line is the token. */
  public static final String ENV_TOKEN_FILE = "GPUWARDEN_ADMIN_TOKEN_FILE";
  /** Metadata key the collector reads the identity from. */
  public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = "File whose first line is the admin token (default: $" + ENV_TOKEN + ", or the file named by $"
          + ENV_TOKEN_FILE + ").")
  Path file;

  private Function<String, String> env = System::getenv;

  /** Replaces the environment lookup, for tests. */
  public AdminToken withEnvironment(Function<String, String> env) {
    this.env = Objects.requireNonNull(env, "env");
    return this;
  }

  /** Sets the token file as {@code --admin-token-file} would. */
  public AdminToken withFile(Path file) {
    this.file = file;
    return this;
  }

  /**
   * Returns the token, or empty when none is configured.
   *
   * @throws Unreadable when a configured token file cannot be read, is empty, or the token is not a valid header value
   */
  public Optional<String> token() {
    return resolve(file, env);
  }

  /** Returns {@code stub} sending the token, or {@code stub} itself when there is none. */
  public <S extends AbstractStub<S>> S attach(S stub) {
    return interceptor().map(i -> stub.withInterceptors(i)).orElse(stub);
  }

  /** Returns an interceptor that sends the token, or empty when there is none. */
  public Optional<ClientInterceptor> interceptor() {
    return token().map(t -> MetadataUtils.newAttachHeadersInterceptor(headers(t)));
  }

  /** Returns the headers carrying {@code token}. */
  public static Metadata headers(String token) {
    Metadata m = new Metadata();
    m.put(AUTHORIZATION, "Bearer " + token);
    return m;
  }

  /**
   * Finds the token: {@code file} first, then {@code env(GPUWARDEN_ADMIN_TOKEN)}, then the file named by
   * {@code env(GPUWARDEN_ADMIN_TOKEN_FILE)}. Blank variables count as unset.
   */
  public static Optional<String> resolve(Path file, Function<String, String> env) {
    if (file != null) {
      return Optional.of(readFirstLine(file, "--admin-token-file"));
    }
    String token = env.apply(ENV_TOKEN);
    if (token != null && !token.isBlank()) {
      return Optional.of(check(token.trim(), "$" + ENV_TOKEN));
    }
    String path = env.apply(ENV_TOKEN_FILE);
    if (path != null && !path.isBlank()) {
      return Optional.of(readFirstLine(Path.of(path.trim()), "$" + ENV_TOKEN_FILE));
    }
    return Optional.empty();
  }

  private static String readFirstLine(Path file, String source) {
    String line;
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      line = r.readLine();
    } catch (IOException e) {
      throw new Unreadable("cannot read admin token file " + file + " (" + source + "): " + e);
    }
    if (line == null || line.isBlank()) {
      throw new Unreadable("admin token file " + file + " (" + source + ") has an empty first line");
    }
    return check(line.trim(), "admin token file " + file + " (" + source + ")");
  }

  private static String check(String token, String source) {
    // A header value must be visible ASCII; saying so beats gRPC's IllegalArgumentException mid-call.
    if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new Unreadable("the admin token from " + source + " contains spaces or characters other than visible ASCII");
    }
    return token;
  }

  /** A configured token could not be used; the message names the source. */
  public static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreadable(String message) {
      super(message);
    }
  }
}
