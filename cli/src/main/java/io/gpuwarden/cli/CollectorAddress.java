package io.gpuwarden.cli;

import io.gpuwarden.common.cli.DurationConverter;
import io.gpuwarden.common.cli.TlsOptions;
import io.gpuwarden.common.tls.ClientTls;
import io.gpuwarden.collector.CollectorConfig;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Options every client command shares: where the collector is, how long to wait for it, and TLS
 * ({@code --tls}, {@code --tls-ca} or {@code $GPUWARDEN_TLS_CA}, {@code --tls-server-name}, and a
 * client certificate for a collector that requires one).
 */
public final class CollectorAddress {
  /** Environment variable naming the CA file to trust; setting it turns TLS on. */
  public static final String ENV_TLS_CA = "GPUWARDEN_TLS_CA";

  @Option(names = "--collector", paramLabel = "HOST:PORT",
      description = "Collector address (default: localhost:" + CollectorConfig.DEFAULT_PORT + ", or $GPUWARDEN_COLLECTOR).")
  String target;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = DurationConverter.class,
      description = "Deadline of each call (default: 5s).")
  Duration timeout = Duration.ofSeconds(5);

  @Mixin
  TlsOptions tls = new TlsOptions();

  private Function<String, String> env = System::getenv;

  /** Replaces the environment lookup, for tests. */
  public CollectorAddress withEnvironment(Function<String, String> env) {
    this.env = env;
    return this;
  }

  /** Returns the collector address to use. */
  public String target() {
    if (target != null) {
      return target;
    }
    String value = env.apply("GPUWARDEN_COLLECTOR");
    return value != null && !value.isBlank() ? value : "localhost:" + CollectorConfig.DEFAULT_PORT;
  }

  /** Returns the per-call deadline. */
  public Duration timeout() {
    return timeout;
  }

  /**
   * Returns the TLS to use, or empty for plaintext; {@code $GPUWARDEN_TLS_CA} is the CA when
   * {@code --tls-ca} is not given.
   *
   * @throws Unusable when only one of --tls-cert and --tls-key is given
   */
  public Optional<ClientTls> clientTls() {
    String ca = env.apply(ENV_TLS_CA);
    try {
      return tls.clientTls(ca == null || ca.isBlank() ? Optional.empty() : Optional.of(Path.of(ca.trim())));
    } catch (IllegalArgumentException e) {
      throw new Unusable(e.getMessage());
    }
  }

  /**
   * Opens a channel to the collector.
   *
   * @throws Unusable when a TLS file cannot be used; the message names it
   */
  public ManagedChannel open() {
    NettyChannelBuilder b = NettyChannelBuilder.forTarget(target());
    Optional<ClientTls> t = clientTls();
    if (t.isEmpty()) {
      return b.usePlaintext().build();
    }
    try {
      return t.get().configure(b).build();
    } catch (IllegalArgumentException e) {
      throw new Unusable(e.getMessage());
    }
  }

  /** The TLS options cannot be used; a usage error. */
  public static final class Unusable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unusable(String message) {
      super(message);
    }
  }
}
