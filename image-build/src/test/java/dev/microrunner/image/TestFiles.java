package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.microrunner.image.internal.BuildContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Files the tests need: a context written by the production code, executable resources. */
final class TestFiles {
  private TestFiles() {}

  /** A tiny jar standing in for the agent where its content does not matter. */
  static Path emptyJar(Path directory) throws IOException {
    Path jar = directory.resolve("agent.jar");
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.flush();
    }
    return jar;
  }

  /** A build context written by {@link BuildContext}, as a build would use it. */
  static Path context(Path directory) throws IOException {
    Path context = directory.resolve("context");
    BuildContext.write(context, emptyJar(directory));
    return context;
  }

  /** Copies a test resource next to the tests and makes it executable. */
  static Path executableResource(String name, Path target) throws IOException {
    try (InputStream in = TestFiles.class.getResourceAsStream(name)) {
      assertNotNull(in, "test resource " + name);
      Files.copy(in, target);
    }
    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
    return target;
  }
}
