package io.gpuwarden.common.tls;

import static java.util.Objects.requireNonNull;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NegotiationType;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a client (the agent, the operator CLI) talks TLS to the collector: which CA to trust (the
 * system's when none is given), an optional client certificate for mTLS, and an optional name to
 * verify the server's certificate against when the target is an IP address.
 *
 * <pre>{@code
 * ClientTls tls = ClientTls.systemTrust().withTrustCa(Path.of("ca.pem"));
 * ManagedChannel ch = tls.configure(NettyChannelBuilder.forTarget("10.0.0.5:7700")).build();
 * }</pre>
 *
 * @param trustCa PEM file of the CA(s) to trust; empty: the JVM's default trust store
 * @param clientCert PEM certificate chain presented for mTLS; set together with {@code clientKey}
 * @param clientKey PEM private key of {@code clientCert} (see {@link PemKeys} for accepted forms)
 * @param serverName host name the server certificate must match instead of the target's host
 */
public record ClientTls(Optional<Path> trustCa, Optional<Path> clientCert, Optional<Path> clientKey,
    Optional<String> serverName) {

  /** Validates. */
  public ClientTls {
    requireNonNull(trustCa, "trustCa");
    requireNonNull(clientCert, "clientCert");
    requireNonNull(clientKey, "clientKey");
    requireNonNull(serverName, "serverName");
    if (clientCert.isPresent() != clientKey.isPresent()) {
      throw new IllegalArgumentException("a client certificate needs its key and a key its certificate: give both "
          + "--tls-cert and --tls-key");
    }
  }

  /** Returns TLS trusting the system's CAs, without a client certificate. */
  public static ClientTls systemTrust() {
    return new ClientTls(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** Returns a copy trusting the CA(s) in {@code caPem} instead of the system's. */
  public ClientTls withTrustCa(Path caPem) {
    return new ClientTls(Optional.of(caPem), clientCert, clientKey, serverName);
  }

  /** Returns a copy presenting {@code cert} (with {@code key}) for mTLS. */
  public ClientTls withClientCertificate(Path cert, Path key) {
    return new ClientTls(trustCa, Optional.of(cert), Optional.of(key), serverName);
  }

  /** Returns a copy verifying the server certificate against {@code name}. */
  public ClientTls withServerName(String name) {
    return new ClientTls(trustCa, clientCert, clientKey, Optional.of(name));
  }

  /** Returns true when a client certificate is presented. */
  public boolean mutual() {
    return clientCert.isPresent();
  }

  /**
   * Builds the Netty SSL context.
   *
   * @throws IllegalArgumentException naming the file when a certificate or key cannot be used
   */
  public SslContext sslContext() {
    SslContextBuilder b = GrpcSslContexts.forClient();
    try {
      if (trustCa.isPresent()) {
        try (InputStream ca = Files.newInputStream(trustCa.get())) {
          b.trustManager(ca);
        }
      }
      if (clientCert.isPresent()) {
        try (InputStream cert = Files.newInputStream(clientCert.get()); InputStream key = PemKeys.pkcs8(clientKey.get())) {
          b.keyManager(cert, key);
        }
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot set up TLS (" + describe() + "): " + e.getMessage(), e);
    }
  }

  /** Makes {@code builder} speak TLS as configured; returns it. */
  public NettyChannelBuilder configure(NettyChannelBuilder builder) {
    builder.negotiationType(NegotiationType.TLS).sslContext(sslContext());
    serverName.ifPresent(builder::overrideAuthority);
    return builder;
  }

  /** Says how this connects, e.g. {@code mTLS (CA ca.pem, client certificate node.pem)}. */
  public String describe() {
    return (mutual() ? "mTLS" : "TLS") + " (" + trustCa.map(p -> "CA " + p).orElse("system trust")
        + clientCert.map(p -> ", client certificate " + p).orElse("")
        + serverName.map(n -> ", server name " + n).orElse("") + ")";
  }
}
