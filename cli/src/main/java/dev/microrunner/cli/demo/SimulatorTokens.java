package dev.microrunner.cli.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/** Tokens that the simulator accepts: generated for a run, written to or read from a file. */
public final class SimulatorTokens {

  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final SecureRandom RANDOM = new SecureRandom();

  private SimulatorTokens() {}

  /** A random token shaped like a classic PAT ({@code ghp_} and 36 alphanumerics). */
  public static String generate() {
    StringBuilder token = new StringBuilder("ghp_");
    for (int i = 0; i < 36; i++) {
      token.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return token.toString();
  }

  /** Creates {@code file} with mode 0600 holding the token and a newline; fails if it exists. */
  public static Path write(Path file, String token) throws IOException {
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
    return file;
  }

  /** The token in {@code file}: a regular file (no link), one non-empty line. */
  public static String read(Path file) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException(
          "--token-file " + file + " is not a regular file (or does not exist)");
    }
    String token = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (token.isEmpty() || token.contains("\n") || token.length() > 4096) {
      throw new IllegalArgumentException(
          "--token-file " + file + " must hold one token on one line");
    }
    return token;
  }
}
