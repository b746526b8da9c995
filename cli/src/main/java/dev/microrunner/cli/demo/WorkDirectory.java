package dev.microrunner.cli.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.apache.commons.io.file.PathUtils;

/**
 * A private temporary directory (0700) for one run of {@code sim}, {@code demo} or {@code bench},
 * deleted with everything in it on {@link #close()}, without following links.
 */
public final class WorkDirectory implements AutoCloseable {

  private final Path path;

  private WorkDirectory(Path path) {
    this.path = path;
  }

  /** A new directory {@code PREFIX-random} in {@code java.io.tmpdir}. */
  public static WorkDirectory create(String prefix) throws IOException {
    // The JDK creates temporary directories with mode 0700 on POSIX file systems.
    return new WorkDirectory(Files.createTempDirectory(prefix + "-").toAbsolutePath());
  }

  public Path path() {
    return path;
  }

  public Path resolve(String name) {
    return path.resolve(name);
  }

  @Override
  public void close() {
    try {
      // PathUtils walks without following links: a link in the tree is removed, not its target.
      PathUtils.deleteDirectory(path);
    } catch (NoSuchFileException e) {
      // Already gone.
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + path, e);
    }
  }
}
