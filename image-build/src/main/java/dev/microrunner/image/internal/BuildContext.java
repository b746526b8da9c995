package dev.microrunner.image.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Writes the build context: the container files and scripts shipped as resources, and the agent
 * jar. Modes are set explicitly (scripts 0755, the rest 0644) because COPY keeps them and the
 * resources lose them inside a jar.
 */
public final class BuildContext {
  private static final String RESOURCE_DIRECTORY = "/dev/microrunner/image/context/";

  /** The file name of the agent jar in the context, which Containerfile.main copies. */
  public static final String AGENT_JAR = "microrunner.jar";

  /** A file of the context and whether it is executed. */
  public record Entry(String name, boolean executable) {}

  /** Every file the container files COPY, except the agent jar. */
  public static final List<Entry> RESOURCES =
      List.of(
          new Entry("Containerfile.base-ubuntu", false),
          new Entry("Containerfile.base-fedora", false),
          new Entry("Containerfile.main", false),
          new Entry("setup-base.sh", true),
          new Entry("docker-shim", true),
          new Entry("install-runner.sh", true),
          new Entry("verify-sha256.sh", true),
          new Entry("jlink-runtime.sh", true),
          new Entry("jlink-modules", false),
          new Entry("microrunner", true));

  private static final Set<PosixFilePermission> EXECUTABLE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> READABLE =
      PosixFilePermissions.fromString("rw-r--r--");

  private BuildContext() {}

  /**
   * Fills {@code directory} (created if absent; must be empty otherwise, so that no stale file
   * slips into an image) with the context files and a copy of {@code agentJar}.
   */
  public static void write(Path directory, Path agentJar) throws IOException {
    if (!Files.isRegularFile(agentJar)) {
      throw new IOException("agent jar " + agentJar + " is not a regular file");
    }
    Files.createDirectories(directory);
    try (Stream<Path> existing = Files.list(directory)) {
      if (existing.findAny().isPresent()) {
        throw new IOException("build context directory " + directory + " is not empty");
      }
    }
    for (Entry entry : RESOURCES) {
      Path target = directory.resolve(entry.name());
      try (InputStream in =
          BuildContext.class.getResourceAsStream(RESOURCE_DIRECTORY + entry.name())) {
        if (in == null) {
          throw new IOException("resource " + RESOURCE_DIRECTORY + entry.name() + " is missing");
        }
        Files.copy(in, target);
      }
      Files.setPosixFilePermissions(target, entry.executable() ? EXECUTABLE : READABLE);
    }
    Path jar = directory.resolve(AGENT_JAR);
    Files.copy(agentJar, jar, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(jar, READABLE);
  }
}
