package dev.microrunner.vm;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Finds programs on a child's PATH. The JDK resolves a bare program name against this process's
 * PATH, not the child's, so programs are resolved here and started by absolute path.
 */
public final class Executables {
  /** Where a program is looked for when the environment has no PATH. */
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private Executables() {}

  /**
   * The executable file {@code name} names: as is when it holds a slash, else the first one on
   * {@code environment}'s PATH.
   */
  public static Optional<Path> find(String name, Map<String, String> environment) {
    if (name.contains("/")) {
      Path path = Path.of(name);
      return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
    }
    String path = environment.getOrDefault("PATH", DEFAULT_PATH);
    for (String directory : path.split(File.pathSeparator, -1)) {
      if (directory.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(directory, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }
}
