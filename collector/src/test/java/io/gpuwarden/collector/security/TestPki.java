package io.gpuwarden.collector.security;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for tests: a CA, a server certificate for {@code localhost}
 * and {@code 127.0.0.1}, and client certificates per node id, written as PEM files under a
 * directory (a JUnit {@code @TempDir}).
 *
 * <pre>{@code
 * TestPki pki = TestPki.create(tmp, "ca");
 * TestPki.Issued server = pki.server();
 * TestPki.Issued gpu1 = pki.client("gpu-001");
 * }</pre>
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** A certificate and its key as PEM files. */
  public record Issued(Path cert, Path key) {}

  private final Path dir;
  private final String name;
  private final KeyPair caKeys;
  private final X509Certificate caCert;
  private final Path caPem;

  private TestPki(Path dir, String name, KeyPair caKeys, X509Certificate caCert, Path caPem) {
    this.dir = dir;
    this.name = name;
    this.caKeys = caKeys;
    this.caCert = caCert;
    this.caPem = caPem;
  }

  /** Creates a CA named {@code name}; its certificate is {@code dir/NAME.pem}. */
  public static TestPki create(Path dir, String name) throws Exception {
    KeyPair keys = ec();
    X500Name subject = new X500Name("CN=" + name + " test CA");
    X509v3CertificateBuilder b = builder(subject, subject, keys)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    X509Certificate cert = sign(b, keys.getPrivate());
    Path pem = dir.resolve(name + ".pem");
    Files.writeString(pem, pem("CERTIFICATE", cert.getEncoded()), StandardCharsets.US_ASCII);
    return new TestPki(dir, name, keys, cert, pem);
  }

  /** Returns the CA certificate's PEM file. */
  public Path caPem() {
    return caPem;
  }

  /** Issues a server certificate for {@code localhost} and {@code 127.0.0.1} (EC key, PKCS#8). */
  public Issued server() throws Exception {
    return issue("server", "collector", ec(), false, List.of(new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1")), KeyPurposeId.id_kp_serverAuth);
  }

  /** Issues a server certificate with an RSA key written in the PKCS#1 form ({@code RSA PRIVATE KEY}). */
  public Issued serverWithPkcs1Key() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Issued issued = issue("server-rsa", "collector", g.generateKeyPair(), false,
        List.of(new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")),
        KeyPurposeId.id_kp_serverAuth);
    byte[] pkcs8 = Base64.getMimeDecoder().decode(Files.readString(issued.key())
        .replaceAll("-----[A-Z ]+-----", ""));
    byte[] pkcs1 = PrivateKeyInfo.getInstance(pkcs8).parsePrivateKey().toASN1Primitive().getEncoded();
    Files.writeString(issued.key(), pem("RSA PRIVATE KEY", pkcs1), StandardCharsets.US_ASCII);
    return issued;
  }

  /** Issues a client certificate with subject CN {@code cn} and no alternative names. */
  public Issued client(String cn) throws Exception {
    return issue("client-" + cn, cn, ec(), false, List.of(), KeyPurposeId.id_kp_clientAuth);
  }

  /** Issues a client certificate with subject CN {@code cn} and these DNS alternative names, in order. */
  public Issued client(String cn, String... dnsNames) throws Exception {
    List<GeneralName> names = new ArrayList<>();
    for (String n : dnsNames) {
      names.add(new GeneralName(GeneralName.dNSName, n));
    }
    return issue("client-" + cn + "-san", cn, ec(), false, names, KeyPurposeId.id_kp_clientAuth);
  }

  /** Returns the certificate of {@code issued}, parsed. */
  public static X509Certificate read(Issued issued) throws Exception {
    try (var in = Files.newInputStream(issued.cert())) {
      return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private Issued issue(String file, String cn, KeyPair keys, boolean ca, List<GeneralName> names, KeyPurposeId purpose)
      throws Exception {
    X509v3CertificateBuilder b = builder(X500Name.getInstance(caCert.getSubjectX500Principal().getEncoded()),
        new X500Name("CN=" + cn + ",O=gpuwarden tests"), keys)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(ca))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
    if (!names.isEmpty()) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
    }
    X509Certificate cert = sign(b, caKeys.getPrivate());
    Path certPem = dir.resolve(name + "-" + file + ".pem");
    Path keyPem = dir.resolve(name + "-" + file + ".key");
    // The chain: the certificate, then its CA.
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()) + pem("CERTIFICATE", caCert.getEncoded()),
        StandardCharsets.US_ASCII);
    Files.writeString(keyPem, pem("PRIVATE KEY", keys.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
    return new Issued(certPem, keyPem);
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey issuerKey)
      throws OperatorCreationException, GeneralSecurityException {
    String algorithm = issuerKey.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(algorithm).build(issuerKey)));
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}
