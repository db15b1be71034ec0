package io.gpuwarden.common.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a PEM private key for Netty, which itself parses only PKCS#8. Accepted forms: unencrypted
 * PKCS#8 ({@code BEGIN PRIVATE KEY}: RSA, EC or DSA) and PKCS#1 ({@code BEGIN RSA PRIVATE KEY}),
 * which is re-wrapped as PKCS#8 here so that no BouncyCastle is needed at run time. Encrypted keys
 * and SEC1 ({@code BEGIN EC PRIVATE KEY}) are refused with a message saying how to convert them.
 *
 * <pre>{@code
 * try (InputStream key = PemKeys.pkcs8(Path.of("agent.key"))) { builder.keyManager(certChain, key); }
 * }</pre>
 */
public final class PemKeys {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\s*(.*?)-----END \\1-----", Pattern.DOTALL);
  /** AlgorithmIdentifier { rsaEncryption, NULL }. */
  private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7,
      0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};
  private static final String CONVERT = "convert it with 'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8'";

  private PemKeys() {}

  /**
   * Returns the key of {@code file} as a PKCS#8 PEM stream.
   *
   * @throws IllegalArgumentException naming the file when it is unreadable or holds no usable key
   */
  public static InputStream pkcs8(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read private key " + file + ": " + e, e);
    }
    return new ByteArrayInputStream(pkcs8Pem(text, file.toString()).getBytes(StandardCharsets.US_ASCII));
  }

  /** Returns {@code pem}'s first private key as PKCS#8 PEM; {@code source} names it in errors. */
  static String pkcs8Pem(String pem, String source) {
    Matcher m = BLOCK.matcher(pem);
    while (m.find()) {
      String label = m.group(1);
      String body = m.group(2);
      switch (label) {
        case "PRIVATE KEY":
          return m.group();
        case "RSA PRIVATE KEY":
          if (body.contains("ENCRYPTED")) {
            throw new IllegalArgumentException("private key " + source + " is encrypted; only unencrypted keys are accepted: "
                + CONVERT);
          }
          return pem("PRIVATE KEY", wrapRsa(Base64.getMimeDecoder().decode(body)));
        case "ENCRYPTED PRIVATE KEY":
          throw new IllegalArgumentException("private key " + source + " is encrypted; only unencrypted keys are accepted: "
              + CONVERT);
        case "EC PRIVATE KEY":
          throw new IllegalArgumentException("private key " + source + " is a SEC1 'EC PRIVATE KEY'; accepted are PKCS#8 "
              + "'PRIVATE KEY' and PKCS#1 'RSA PRIVATE KEY': " + CONVERT);
        default:
          // certificates or parameters before the key: keep looking
      }
    }
    throw new IllegalArgumentException("no private key in " + source + ": expected a PEM block 'BEGIN PRIVATE KEY' (PKCS#8) "
        + "or 'BEGIN RSA PRIVATE KEY' (PKCS#1)");
  }

  /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption). */
  static byte[] wrapRsa(byte[] pkcs1) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM);
    body.writeBytes(tlv(0x04, pkcs1));
    return tlv(0x30, body.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = value.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = (Integer.SIZE - Integer.numberOfLeadingZeros(length) + 7) / 8;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(length >>> (8 * i));
      }
    }
    out.writeBytes(value);
    return out.toByteArray();
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}
