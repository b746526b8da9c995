package dev.microrunner.handshake;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The secret of one runner loop. Break and terminate files are honoured only when they hold it. The
 * value never appears in {@link #toString()} or in exception messages.
 */
public final class LoopSecret {
  /** 22 base64url characters carry 132 bits; anything shorter is below 128 bits. */
  public static final int MIN_LENGTH = 22;

  /** Keeps a secret well inside the 4 KiB protocol files. */
  public static final int MAX_LENGTH = 1024;

  private static final int GENERATED_BYTES = 32;
  private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]+");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String value;

  private LoopSecret(String value) {
    this.value = value;
  }

  /** 256 bits from SecureRandom, base64url without padding (43 characters). */
  public static LoopSecret generate() {
    byte[] bytes = new byte[GENERATED_BYTES];
    RANDOM.nextBytes(bytes);
    return new LoopSecret(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
  }

  /**
   * A secret given by the user (RUNNER_SECRET or {@code -S}).
   *
   * @throws IllegalArgumentException if it is shorter than {@value #MIN_LENGTH} characters, longer
   *     than {@value #MAX_LENGTH}, or not base64url; the message never contains the value
   */
  public static LoopSecret of(String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("the loop secret is empty");
    }
    if (value.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "the loop secret has "
              + value.length()
              + " characters; at least "
              + MIN_LENGTH
              + " base64url characters (128 bits) are required");
    }
    if (value.length() > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "the loop secret has "
              + value.length()
              + " characters; at most "
              + MAX_LENGTH
              + " are allowed");
    }
    if (!BASE64URL.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "the loop secret must use only base64url characters" + " (A-Z a-z 0-9 - _)");
    }
    return new LoopSecret(value);
  }

  /** Whether {@code candidate} is this secret, compared in time independent of the content. */
  public boolean matches(String candidate) {
    if (candidate == null) {
      return false;
    }
    return matches(candidate.getBytes(StandardCharsets.UTF_8));
  }

  /** Byte form of {@link #matches(String)}, for file contents that need not be valid UTF-8. */
  public boolean matches(byte[] candidate) {
    if (candidate == null) {
      return false;
    }
    return MessageDigest.isEqual(value.getBytes(StandardCharsets.UTF_8), candidate);
  }

  /** The value itself; the only way to obtain it. */
  public String reveal() {
    return value;
  }

  @Override
  public String toString() {
    return "LoopSecret[redacted]";
  }
}
