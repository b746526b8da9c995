package dev.microrunner.github.internal;

import dev.microrunner.github.InvalidCredentialsException;
import dev.microrunner.github.Secret;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads credential files: bounded, regular files only, warning when others may read them. */
public final class SecretFiles {

  private static final Logger LOG = LoggerFactory.getLogger(SecretFiles.class);
  private static final Set<PosixFilePermission> SHARED =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.OTHERS_WRITE);

  private SecretFiles() {}

  public static Secret readToken(Path file) throws InvalidCredentialsException {
    String text = readBounded(file, 16 * 1024, "token file").strip();
    if (text.isEmpty()) {
      throw new InvalidCredentialsException("token file " + file + " is empty");
    }
    if (text.contains("\n") || text.contains(" ")) {
      throw new InvalidCredentialsException(
          "token file " + file + " must hold the token alone on one line");
    }
    return Secret.of(text);
  }

  /**
   * A secret that is the whole first line of {@code file}: one line break at its end is dropped,
   * anything else (spaces included) is part of it.
   */
  public static Secret readLine(Path file, String what) throws InvalidCredentialsException {
    String text = readBounded(file, 16 * 1024, what);
    if (text.endsWith("\n")) {
      text = text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1));
    }
    if (text.isEmpty()) {
      throw new InvalidCredentialsException(what + " " + file + " is empty");
    }
    if (text.contains("\n") || text.contains("\r")) {
      throw new InvalidCredentialsException(what + " " + file + " must hold one line");
    }
    return Secret.of(text);
  }

  static String readBounded(Path file, long maxBytes, String what)
      throws InvalidCredentialsException {
    if (!Files.isRegularFile(file)) {
      throw new InvalidCredentialsException(
          what + " " + file + (Files.exists(file) ? " is not a regular file" : " does not exist"));
    }
    warnIfShared(file, what);
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes((int) maxBytes + 1);
      if (bytes.length > maxBytes) {
        throw new InvalidCredentialsException(
            what + " " + file + " is larger than " + maxBytes + " bytes");
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new InvalidCredentialsException(what + " " + file + " does not exist");
    } catch (IOException e) {
      throw new InvalidCredentialsException(
          what + " " + file + " cannot be read: " + e.getClass().getSimpleName(), e);
    }
  }

  private static void warnIfShared(Path file, String what) {
    try {
      Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
      permissions.retainAll(SHARED);
      if (!permissions.isEmpty()) {
        LOG.warn(
            "{} {} is accessible to group or others; restrict it: chmod 600 {}", what, file, file);
      }
    } catch (UnsupportedOperationException | IOException e) {
      LOG.debug("cannot check the permissions of {}", file, e);
    }
  }
}
