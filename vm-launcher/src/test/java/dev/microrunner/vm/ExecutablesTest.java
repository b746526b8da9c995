package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExecutablesTest {
  @TempDir Path dir;

  private Path file(String name, String mode) throws Exception {
    Path file = Files.createDirectories(dir.resolve("d" + mode)).resolve(name);
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
    return file;
  }

  @Test
  void looksOnTheGivenPathInItsOrderSkippingWhatCannotRun() throws Exception {
    Path notExecutable = file("tool", "rw-r--r--");
    Path executable = file("tool", "rwxr-xr-x");
    Path directory = Files.createDirectories(dir.resolve("withdir").resolve("tool")).getParent();
    String path = String.join(":", "", directory.toString(), notExecutable.getParent().toString());

    assertEquals(
        Optional.of(executable),
        Executables.find("tool", Map.of("PATH", path + ":" + executable.getParent())));
    assertEquals(Optional.empty(), Executables.find("tool", Map.of("PATH", path)));
  }

  @Test
  void aNameWithASlashIsTakenAsIs() throws Exception {
    Path executable = file("tool", "rwxr-xr-x");

    assertEquals(
        Optional.of(executable), Executables.find(executable.toString(), Map.of("PATH", "/x")));
    assertEquals(Optional.empty(), Executables.find(dir.resolve("missing").toString(), Map.of()));
  }

  @Test
  void withoutPathTheUsualDirectoriesAreSearched() {
    Path sh = Executables.find("sh", Map.of()).orElseThrow();

    assertTrue(
        List.of(Executables.DEFAULT_PATH.split(":")).contains(sh.getParent().toString()),
        sh.toString());
  }
}
