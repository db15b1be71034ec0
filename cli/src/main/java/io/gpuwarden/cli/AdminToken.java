package io.gpuwarden.cli;

import io.grpc.ClientInterceptor;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * The admin identity of the gate's mutating commands, sent as {@code authorization: Bearer TOKEN}.
 *
 * <p>The token comes from {@code --admin-token-file}, else {@code $GPUWARDEN_ADMIN_TOKEN}, else the file named by
 * {@code $GPUWARDEN_ADMIN_TOKEN_FILE}. A token file is either the collector's own {@code admin.tokens} ({@code NAME
 * TOKEN} per line; {@code --admin-name} picks one, by default {@code admin} or the only one) or a file whose first
 * line is the token. The mutating commands refuse to call without a token ({@link #MISSING}).
 *
 * <pre>{@code
 * GateServiceBlockingStub stub = adminToken.attach(GateServiceGrpc.newBlockingStub(channel));
 * }</pre>
 */
public final class AdminToken {
  /** Environment variable holding the token itself. */
  public static final String ENV_TOKEN = "GPUWARDEN_ADMIN_TOKEN";
  /** Environment variable naming a token file. */
  public static final String ENV_TOKEN_FILE = "GPUWARDEN_ADMIN_TOKEN_FILE";
  /** Metadata key the collector reads the identity from. */
  public static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /** What a mutating command says when no token is configured: the problem and, once, how to give one. */
  public static final String MISSING = "no admin token: give --admin-token-file FILE (the collector's admin.tokens, "
      + "or a file holding just the token), or set $" + ENV_TOKEN + " or $" + ENV_TOKEN_FILE;

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = {"Admin token file: the collector's admin.tokens (NAME TOKEN per line, see --admin-name) or a file "
          + "whose first line is the token (default: $" + ENV_TOKEN + ", or the file named by $" + ENV_TOKEN_FILE + ")."})
  Path file;

  @Option(names = "--admin-name", paramLabel = "NAME",
      description = "Whose token to take from a NAME TOKEN file (default: the one named " + AdminTokenFile.DEFAULT_NAME
          + ", or the only one).")
  String name;

  private Function<String, String> env = System::getenv;

  /** A token and where it came from, for messages ({@code --admin-token-file /etc/x (name alice)}). */
  public record Credential(String token, String source) {
    /** Creates a credential. */
    public Credential {
      Objects.requireNonNull(token, "token");
      Objects.requireNonNull(source, "source");
    }

    @Override
    public String toString() {
      return "Credential[" + source + "]";
    }
  }

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

  /** Sets the name as {@code --admin-name} would. */
  public AdminToken withName(String name) {
    this.name = name;
    return this;
  }

  /**
   * Returns the token, or empty when none is configured.
   *
   * @throws Unreadable when a configured token cannot be used; the message names its source
   */
  public Optional<String> token() {
    return credential().map(Credential::token);
  }

  /**
   * Returns the token with its source, or empty when none is configured.
   *
   * @throws Unreadable when a configured token cannot be used; the message names its source
   */
  public Optional<Credential> credential() {
    return resolve(file, name, env);
  }

  /** Returns {@code stub} sending the token, or {@code stub} itself when there is none. */
  public <S extends AbstractStub<S>> S attach(S stub) {
    return interceptor().map(i -> stub.withInterceptors(i)).orElse(stub);
  }

  /** Returns an interceptor that sends the token, or empty when there is none. */
  public Optional<ClientInterceptor> interceptor() {
    return token().map(AdminToken::interceptor);
  }

  /** Returns an interceptor that sends {@code token}. */
  public static ClientInterceptor interceptor(String token) {
    return MetadataUtils.newAttachHeadersInterceptor(headers(token));
  }

  /** Returns the headers carrying {@code token}. */
  public static Metadata headers(String token) {
    Metadata m = new Metadata();
    m.put(AUTHORIZATION, "Bearer " + token);
    return m;
  }

  /** Finds the token as {@link #resolve(Path, String, Function)} does, without a name. */
  public static Optional<String> resolve(Path file, Function<String, String> env) {
    return resolve(file, null, env).map(Credential::token);
  }

  /**
   * Finds the token: {@code file} first, then {@code env(GPUWARDEN_ADMIN_TOKEN)}, then the file named by
   * {@code env(GPUWARDEN_ADMIN_TOKEN_FILE)}. Blank variables count as unset.
   *
   * @param name the name to pick from a {@code NAME TOKEN} file, or {@code null} for the default; it is an error with a
   *     token that does not come from such a file
   * @throws Unreadable when the token cannot be used
   */
  public static Optional<Credential> resolve(Path file, String name, Function<String, String> env) {
    if (file != null) {
      return Optional.of(AdminTokenFile.read(file, "--admin-token-file", name));
    }
    String token = env.apply(ENV_TOKEN);
    if (token != null && !token.isBlank()) {
      if (name != null) {
        throw new Unreadable("--admin-name " + name + " picks a token from a token file, but the token comes from $"
            + ENV_TOKEN + "; give --admin-token-file FILE, or leave --admin-name out");
      }
      return Optional.of(new Credential(check(token.strip(), "$" + ENV_TOKEN), "$" + ENV_TOKEN));
    }
    String path = env.apply(ENV_TOKEN_FILE);
    if (path != null && !path.isBlank()) {
      return Optional.of(AdminTokenFile.read(Path.of(path.strip()), "$" + ENV_TOKEN_FILE, name));
    }
    if (name != null) {
      throw new Unreadable("--admin-name " + name + " needs a token file: give --admin-token-file FILE or set $"
          + ENV_TOKEN_FILE);
    }
    return Optional.empty();
  }

  /** Returns {@code token} when it can be a header value; {@code source} names it in the error otherwise. */
  static String check(String token, String source) {
    // A header value must be visible ASCII; saying so beats gRPC's IllegalArgumentException mid-call.
    if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new Unreadable("the admin token from " + source + " contains spaces or characters other than visible ASCII");
    }
    return token;
  }

  /** A configured token could not be used; the message names the source. A usage error. */
  public static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unreadable(String message) {
      super(message);
    }
  }
}
