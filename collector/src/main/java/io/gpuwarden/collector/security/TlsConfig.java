package io.gpuwarden.collector.security;

import static java.util.Objects.requireNonNull;

import io.gpuwarden.common.tls.PemKeys;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The collector's TLS: its certificate and key, and whether clients must present a certificate
 * signed by {@code clientCa} (mTLS; the agent's node id is then taken from its certificate, see
 * {@link AgentIdentity#fromCertificate}).
 *
 * <pre>{@code
 * TlsConfig tls = TlsConfig.of(Path.of("server.pem"), Path.of("server.key")).withClientCa(Path.of("ca.pem"), ClientAuth.REQUIRE);
 * }</pre>
 *
 * @param certChain PEM certificate chain, the server's certificate first
 * @param privateKey PEM private key: PKCS#8 {@code PRIVATE KEY} or PKCS#1 {@code RSA PRIVATE KEY}, unencrypted
 * @param clientCa PEM CA(s) client certificates must chain to; required unless {@code clientAuth} is NONE
 * @param clientAuth whether a client certificate is asked for
 */
public record TlsConfig(Path certChain, Path privateKey, Optional<Path> clientCa, ClientAuth clientAuth) {
  /** Whether the TLS handshake asks for a client certificate. */
  public enum ClientAuth {
    /** No client certificate is asked for. */
    NONE,
    /** One is asked for; clients without one still connect (the CLI), but agents need a token then. */
    OPTIONAL,
    /** The handshake fails without a client certificate signed by the client CA. */
    REQUIRE
  }

  /** Validates. */
  public TlsConfig {
    requireNonNull(certChain, "certChain");
    requireNonNull(privateKey, "privateKey");
    requireNonNull(clientCa, "clientCa");
    requireNonNull(clientAuth, "clientAuth");
    if (clientAuth != ClientAuth.NONE && clientCa.isEmpty()) {
      throw new IllegalArgumentException("client auth " + clientAuth + " needs the CA of client certificates (--tls-client-ca)");
    }
  }

  /** Returns server-only TLS with this certificate and key. */
  public static TlsConfig of(Path certChain, Path privateKey) {
    return new TlsConfig(certChain, privateKey, Optional.empty(), ClientAuth.NONE);
  }

  /** Returns a copy verifying client certificates against {@code ca}. */
  public TlsConfig withClientCa(Path ca, ClientAuth auth) {
    return new TlsConfig(certChain, privateKey, Optional.of(ca), auth);
  }

  /**
   * Builds the Netty SSL context (gRPC's ciphers and ALPN).
   *
   * @throws IllegalArgumentException naming the files when a certificate or key cannot be used
   */
  public SslContext sslContext() {
    try (InputStream chain = Files.newInputStream(certChain); InputStream key = PemKeys.pkcs8(privateKey)) {
      SslContextBuilder b = GrpcSslContexts.forServer(chain, key);
      if (clientCa.isPresent()) {
        try (InputStream ca = Files.newInputStream(clientCa.get())) {
          b.trustManager(ca);
        }
        b.clientAuth(clientAuth == ClientAuth.REQUIRE ? io.netty.handler.ssl.ClientAuth.REQUIRE
            : clientAuth == ClientAuth.OPTIONAL ? io.netty.handler.ssl.ClientAuth.OPTIONAL : io.netty.handler.ssl.ClientAuth.NONE);
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot set up TLS (" + describe() + "): " + e.getMessage(), e);
    }
  }

  /** Says how clients connect, e.g. {@code TLS, client certificates REQUIRE (CA ca.pem)}. */
  public String describe() {
    return "TLS with " + certChain + (clientAuth == ClientAuth.NONE ? ", no client certificates"
        : ", client certificates " + clientAuth + " (CA " + clientCa.orElseThrow() + ")");
  }
}
