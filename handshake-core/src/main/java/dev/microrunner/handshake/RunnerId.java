package dev.microrunner.handshake;

import dev.microrunner.handshake.internal.Printable;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Identifies one runner of one loop: {@code <loop>-<random>}, e.g. {@code 3-k2J9xQa}. Protocol file
 * names are built from it, so the grammar is deliberately narrow: no path separators, dots or
 * control characters can ever reach a file name.
 *
 * @param loop the loop number, 1 to {@value #MAX_LOOP}
 * @param random 1 to {@value #MAX_RANDOM_LENGTH} ASCII letters and digits
 */
public record RunnerId(int loop, String random) {
  public static final int MAX_LOOP = 999_999;
  public static final int MAX_RANDOM_LENGTH = 32;
  public static final int RANDOM_LENGTH = 8;

  private static final String RANDOM_GRAMMAR = "[A-Za-z0-9]{1," + MAX_RANDOM_LENGTH + "}";
  private static final Pattern RANDOM_PART = Pattern.compile(RANDOM_GRAMMAR);

  /** The loop number without leading zeros, at most as many digits as {@link #MAX_LOOP}. */
  private static final Pattern ID =
      Pattern.compile(
          "([1-9][0-9]{0,"
              + (Integer.toString(MAX_LOOP).length() - 1)
              + "})-("
              + RANDOM_GRAMMAR
              + ")");

  private static final String ALPHANUMERICS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  public RunnerId {
    if (loop < 1 || loop > MAX_LOOP) {
      throw new IllegalArgumentException(
          "runner loop number must be between 1 and " + MAX_LOOP + ", got " + loop);
    }
    Objects.requireNonNull(random, "random");
    if (!RANDOM_PART.matcher(random).matches()) {
      throw new IllegalArgumentException(
          "random part of a runner id must be 1 to "
              + MAX_RANDOM_LENGTH
              + " ASCII letters or digits, got "
              + Printable.quote(random));
    }
  }

  /**
   * Parses {@code <loop>-<random>}.
   *
   * @throws IllegalArgumentException naming the rejected text (control characters escaped)
   */
  public static RunnerId parse(String text) {
    Objects.requireNonNull(text, "text");
    var matcher = ID.matcher(text);
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          "not a runner id (expected <loop>-<letters and digits>, e.g. 3-k2J9xQa): "
              + Printable.quote(text));
    }
    return new RunnerId(Integer.parseInt(matcher.group(1)), matcher.group(2));
  }

  /** A fresh id for the given loop with {@value #RANDOM_LENGTH} alphanumerics from SecureRandom. */
  public static RunnerId random(int loop) {
    var random = new StringBuilder(RANDOM_LENGTH);
    for (int i = 0; i < RANDOM_LENGTH; i++) {
      random.append(ALPHANUMERICS.charAt(RANDOM.nextInt(ALPHANUMERICS.length())));
    }
    return new RunnerId(loop, random.toString());
  }

  /** The name of this runner's protocol file, e.g. {@code 3-k2J9xQa.tkn}. */
  public String fileName(HandshakeFile file) {
    return this + "." + file.extension();
  }

  @Override
  public String toString() {
    return loop + "-" + random;
  }
}
