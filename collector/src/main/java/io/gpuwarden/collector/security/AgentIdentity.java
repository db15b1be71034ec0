package io.gpuwarden.collector.security;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * Who an agent proved to be: the node id it may report as, and how it proved it.
 *
 * @param nodeId the node id the agent may use in its hello
 * @param source how it was proved, {@code certificate} or {@code token}, for messages
 */
public record AgentIdentity(String nodeId, String source) {
  private static final int DNS_NAME = 2;

  /**
   * Returns the node identity of a verified client certificate: its first DNS subject alternative
   * name, else its subject's common name (CN), else empty.
   */
  public static Optional<AgentIdentity> fromCertificate(X509Certificate cert) {
    return firstDnsName(cert).or(() -> commonName(cert.getSubjectX500Principal()))
        .map(id -> new AgentIdentity(id, "certificate"));
  }

  private static Optional<String> firstDnsName(X509Certificate cert) {
    Collection<List<?>> names;
    try {
      names = cert.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
    if (names == null) {
      return Optional.empty();
    }
    return names.stream().filter(n -> n.size() >= 2 && Integer.valueOf(DNS_NAME).equals(n.get(0)))
        .map(n -> String.valueOf(n.get(1))).findFirst();
  }

  private static Optional<String> commonName(X500Principal subject) {
    try {
      List<Rdn> rdns = new LdapName(subject.getName(X500Principal.RFC2253)).getRdns();
      // LdapName lists RDNs right to left; the most specific CN is the last one listed.
      for (int i = rdns.size() - 1; i >= 0; i--) {
        if (rdns.get(i).getType().equalsIgnoreCase("CN")) {
          return Optional.of(String.valueOf(rdns.get(i).getValue()));
        }
      }
    } catch (InvalidNameException e) {
      // no usable subject
    }
    return Optional.empty();
  }
}
