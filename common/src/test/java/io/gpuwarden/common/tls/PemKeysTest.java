package io.gpuwarden.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PemKeysTest {
  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  private static byte[] der(String pem) {
    return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
  }

  @Test
  void aPkcs1RsaKeyIsRewrappedAsTheSamePkcs8KeyTheJdkReads() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    PrivateKey key = g.generateKeyPair().getPrivate();
    byte[] pkcs8 = key.getEncoded();
    // The JDK's PKCS#8 RSA encoding: SEQUENCE(4) INTEGER 0(3) AlgorithmIdentifier(15) OCTET STRING header(4), then PKCS#1.
    byte[] pkcs1 = Arrays.copyOfRange(pkcs8, 26, pkcs8.length);

    String converted = PemKeys.pkcs8Pem("junk before\n" + pem("RSA PRIVATE KEY", pkcs1), "key.pem");

    assertThat(converted).startsWith("-----BEGIN PRIVATE KEY-----");
    assertThat(der(converted)).isEqualTo(pkcs8);
    assertThat(KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der(converted)))).isEqualTo(key);
  }

  @Test
  void aPkcs8KeyPassesUnchangedEvenAfterACertificate() {
    String key = pem("PRIVATE KEY", new byte[] {1, 2, 3});
    assertThat(PemKeys.pkcs8Pem(pem("CERTIFICATE", new byte[] {9}) + key, "k")).isEqualTo(key.strip());
  }

  @Test
  void encryptedSec1AndMissingKeysAreRefusedSayingWhatIsAccepted() {
    assertThatThrownBy(() -> PemKeys.pkcs8Pem(pem("ENCRYPTED PRIVATE KEY", new byte[] {1}), "a.key"))
        .hasMessageContaining("a.key is encrypted").hasMessageContaining("openssl pkcs8 -topk8 -nocrypt");
    assertThatThrownBy(() -> PemKeys.pkcs8Pem(pem("EC PRIVATE KEY", new byte[] {1}), "b.key"))
        .hasMessageContaining("SEC1").hasMessageContaining("PKCS#8 'PRIVATE KEY' and PKCS#1 'RSA PRIVATE KEY'");
    assertThatThrownBy(() -> PemKeys.pkcs8Pem(pem("CERTIFICATE", new byte[] {1}), "c.pem"))
        .hasMessageStartingWith("no private key in c.pem");
  }
}
