package dev.microrunner.github;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Test support: a clock moved by hand, a sleeper that records its waits, RSA keys in PEM files.
 * Shared with the GitHub simulator module's tests through this module's test jar.
 */
public final class TestSupport {

  private TestSupport() {}

  /** A clock tests move by hand; the sleeper below advances it instead of waiting. */
  public static final class MutableClock extends Clock {
    private Instant now;

    public MutableClock(Instant start) {
      this.now = start;
    }

    public synchronized void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public synchronized Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  /** Records the waits and moves the clock forward by them. */
  public static final class RecordingSleeper implements Sleeper {
    private final MutableClock clock;
    public final List<Duration> sleeps = new ArrayList<>();

    public RecordingSleeper(MutableClock clock) {
      this.clock = clock;
    }

    @Override
    public synchronized void sleep(Duration duration) {
      sleeps.add(duration);
      clock.advance(duration);
    }
  }

  public static KeyPair rsaKeyPair() throws NoSuchAlgorithmException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  public static Path writePkcs8Pem(Path file, KeyPair keys) throws IOException {
    return Files.writeString(file, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
  }

  /** GitHub's format: the RSAPrivateKey inside the JDK's PKCS#8 encoding (26-byte header). */
  public static Path writePkcs1Pem(Path file, KeyPair keys) throws IOException {
    byte[] pkcs8 = keys.getPrivate().getEncoded();
    if (pkcs8[22] != 0x04) {
      throw new IllegalStateException("unexpected PKCS#8 layout");
    }
    return Files.writeString(
        file, pem("RSA PRIVATE KEY", Arrays.copyOfRange(pkcs8, 26, pkcs8.length)));
  }

  private static String pem(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }
}
