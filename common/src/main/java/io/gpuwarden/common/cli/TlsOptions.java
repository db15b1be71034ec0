package io.gpuwarden.common.cli;

import io.gpuwarden.common.tls.ClientTls;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** TLS options of a client of the collector (the agent, the operator CLI). Any of them turns TLS on. */
public final class TlsOptions {
  @Option(names = "--tls", description = "Connect with TLS, trusting the system's CAs unless --tls-ca is given.")
  boolean tls;

  @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM file of the CA that signed the collector's certificate "
      + "(implies --tls).")
  Path ca;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM client certificate chain for mTLS (implies --tls; "
      + "needs --tls-key).")
  Path cert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of --tls-cert: PKCS#8 'PRIVATE KEY' or "
      + "PKCS#1 'RSA PRIVATE KEY', unencrypted.")
  Path key;

  @Option(names = "--tls-server-name", paramLabel = "NAME", description = "Name the collector's certificate must carry, "
      + "when it differs from the --collector host (e.g. connecting by IP address); implies --tls.")
  String serverName;

  /**
   * Returns the TLS settings, or empty for plaintext.
   *
   * @param defaultCa CA to trust when {@code --tls-ca} is not given (e.g. from the environment); turns TLS on
   * @throws IllegalArgumentException when only one of --tls-cert and --tls-key is given
   */
  public Optional<ClientTls> clientTls(Optional<Path> defaultCa) {
    Optional<Path> trust = Optional.ofNullable(ca).or(() -> defaultCa);
    if (!tls && trust.isEmpty() && cert == null && key == null && serverName == null) {
      return Optional.empty();
    }
    return Optional.of(new ClientTls(trust, Optional.ofNullable(cert), Optional.ofNullable(key), Optional.ofNullable(serverName)));
  }
}
