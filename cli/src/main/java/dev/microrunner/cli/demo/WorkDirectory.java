package dev.microrunner.cli.demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

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
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(
          path,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (NoSuchFileException e) {
      // Already gone.
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete " + path, e);
    }
  }
}
