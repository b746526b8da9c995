package dev.microrunner.vm;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Installs the fake krunvm and buildah (test resources) as executables in a directory. */
final class FakeTools {
  private FakeTools() {}

  static Path install(Path directory) throws IOException {
    Path bin = Files.createDirectories(directory.resolve("bin"));
    for (String tool : new String[] {"krunvm", "buildah"}) {
      try (InputStream script = FakeTools.class.getResourceAsStream("/fake-bin/" + tool)) {
        if (script == null) {
          throw new IOException("test resource /fake-bin/" + tool + " is missing");
        }
        Path target = bin.resolve(tool);
        Files.copy(script, target, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
    return bin;
  }

  /** PATH with the fakes first. */
  static String path(Path bin) {
    return bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
  }
}
