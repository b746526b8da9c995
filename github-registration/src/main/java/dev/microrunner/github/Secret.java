package dev.microrunner.github;

import dev.microrunner.github.internal.SecretFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Objects;

/** A credential value that never shows in {@code toString}, logs or exception messages. */
public final class Secret {

  private final String value;

  private Secret(String value) {
    this.value = value;
  }

  public static Secret of(String value) {
    Objects.requireNonNull(value, "secret value");
    if (value.isEmpty()) {
      throw new IllegalArgumentException("secret value is empty");
    }
    return new Secret(value);
  }

  /**
   * The secret in {@code file}: its one line, without the line break at its end (spaces are kept:
   * they are part of the secret). A regular file of at most 16 KiB; a warning is logged when group
   * or others may read it. {@code what} names it in errors ({@code "webhook secret file"}).
   */
  public static Secret fromFile(Path file, String what) throws InvalidCredentialsException {
    return SecretFiles.readLine(file, what);
  }

  /** The only way to get the value. */
  public String reveal() {
    return value;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Secret secret
        && MessageDigest.isEqual(
            value.getBytes(StandardCharsets.UTF_8), secret.value.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public int hashCode() {
    return 0; // a hash would leak information about the value; secrets are rarely map keys
  }

  @Override
  public String toString() {
    return "Secret[redacted]";
  }
}
