package dev.microrunner.github.sim.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Files written whole or not at all: the distribution's scripts, the runner's settings. */
public final class AtomicFiles {

  private AtomicFiles() {}

  /**
   * Writes {@code content} to a temporary file created with {@code permissions}, then renames it
   * over {@code file}: a reader never sees a half-written script or settings file, and a private
   * file is never readable by others, not even for a moment.
   */
  public static void write(Path file, String content, String permissions) throws IOException {
    Path temp =
        Files.createTempFile(
            file.getParent(),
            file.getFileName().toString(),
            ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)));
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
