package dev.microrunner.github.internal;

import dev.microrunner.github.InvalidCredentialsException;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads RSA private keys from PKCS#1 or PKCS#8 PEM files without extra libraries. */
public final class PemPrivateKeys {

  private static final long MAX_BYTES = 64 * 1024;
  private static final Pattern PEM =
      Pattern.compile(
          "-----BEGIN (RSA PRIVATE KEY|PRIVATE KEY)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  /** AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters. */
  private static final byte[] RSA_ALGORITHM_IDENTIFIER = {
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  private PemPrivateKeys() {}

  public static PrivateKey read(Path file) throws InvalidCredentialsException {
    String text = SecretFiles.readBounded(file, MAX_BYTES, "GitHub App private key file");
    Matcher matcher = PEM.matcher(text);
    if (!matcher.find()) {
      throw new InvalidCredentialsException(
          "GitHub App private key file "
              + file
              + " holds no PEM RSA private key (expected '-----BEGIN RSA PRIVATE KEY-----' or"
              + " '-----BEGIN PRIVATE KEY-----', as downloaded from the app's settings)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(matcher.group(2));
    } catch (IllegalArgumentException e) {
      throw new InvalidCredentialsException(
          "GitHub App private key file " + file + " has a PEM block that is not valid base64");
    }
    byte[] pkcs8 = matcher.group(1).equals("RSA PRIVATE KEY") ? wrapPkcs1(der) : der;
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new InvalidCredentialsException(
          "GitHub App private key file " + file + " does not hold a valid RSA private key");
    }
  }

  /** PKCS#8 PrivateKeyInfo ::= SEQUENCE { version 0, rsaEncryption, OCTET STRING pkcs1 }. */
  static byte[] wrapPkcs1(byte[] pkcs1) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM_IDENTIFIER);
    body.write(0x04);
    body.writeBytes(derLength(pkcs1.length));
    body.writeBytes(pkcs1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    out.writeBytes(derLength(body.size()));
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static byte[] derLength(int length) {
    if (length < 0x80) {
      return new byte[] {(byte) length};
    }
    int bytes = length > 0xffffff ? 4 : length > 0xffff ? 3 : length > 0xff ? 2 : 1;
    byte[] encoded = new byte[bytes + 1];
    encoded[0] = (byte) (0x80 | bytes);
    for (int i = 0; i < bytes; i++) {
      encoded[bytes - i] = (byte) (length >>> (8 * i));
    }
    return encoded;
  }
}
