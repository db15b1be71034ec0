package io.gpuwarden.agent.tls;

import io.gpuwarden.common.tls.ClientTls;
import static java.util.Objects.requireNonNull;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How the agent proves itself to the collector and protects the stream: plaintext or TLS
 * ({@link ClientTls}, with a client certificate for mTLS), and optionally a bearer token sent as
 * {@code authorization: Bearer TOKEN} on the ingest stream.
 *
 * <pre>{@code
 * UplinkSecurity s = new UplinkSecurity(Optional.of(ClientTls.systemTrust()), Optional.of(Path.of("/etc/gpuwarden/token")));
 * }</pre>
 *
 * @param tls TLS settings; empty: plaintext (for trusted networks only)
 * @param tokenFile file whose first line is this agent's bearer token; empty: no token
 */
public record UplinkSecurity(Optional<ClientTls> tls, Optional<Path> tokenFile) {
  private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Validates. */
  public UplinkSecurity {
    requireNonNull(tls, "tls");
    requireNonNull(tokenFile, "tokenFile");
  }

  /** Returns plaintext without a token: what agents did before transport security existed. */
  public static UplinkSecurity plaintext() {
    return new UplinkSecurity(Optional.empty(), Optional.empty());
  }

  /** Makes {@code builder} use TLS or plaintext as configured; returns it. */
  public NettyChannelBuilder configure(NettyChannelBuilder builder) {
    if (tls.isPresent()) {
      return tls.get().configure(builder);
    }
    return builder.usePlaintext();
  }

  /**
   * Returns {@code channel} sending the bearer token on every call, or {@code channel} itself
   * without one. The token is read once, here.
   *
   * @throws IllegalArgumentException naming the file when it is unreadable or the token unusable
   */
  public Channel authenticate(Channel channel) {
    if (tokenFile.isEmpty()) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, "Bearer " + readToken(tokenFile.get()));
    return ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Says how the agent connects, e.g. {@code mTLS (CA ca.pem, client certificate a.pem), no token}. */
  public String describe() {
    return tls.map(ClientTls::describe).orElse("plaintext")
        + tokenFile.map(f -> ", bearer token from " + f + (tls.isEmpty() ? " (sent in clear text!)" : "")).orElse(", no token");
  }

  /** Returns the first line of {@code file}, trimmed; it must be visible ASCII. */
  static String readToken(Path file) {
    String line;
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      line = r.readLine();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read token file " + file + ": " + e, e);
    }
    if (line == null || line.isBlank()) {
      throw new IllegalArgumentException("token file " + file + " has an empty first line");
    }
    String token = line.trim();
    // A header value must be visible ASCII; saying so beats gRPC's IllegalArgumentException mid-call.
    if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException("the token in " + file + " contains spaces or characters other than visible ASCII");
    }
    return token;
  }
}
