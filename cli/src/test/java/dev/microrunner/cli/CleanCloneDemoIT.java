package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's second command on a checkout without any build output: {@code ./microrunner demo}
 * builds the jar with the real Maven, then runs the demo to its exact last line.
 */
class CleanCloneDemoIT {

  @TempDir Path clone;
  @TempDir Path output;

  @Test
  void microrunnerDemoBuildsTheJarAndCompletesTheDemo() throws Exception {
    copySources(BuiltJar.repositoryRoot(), clone);
    assertTrue(Files.notExists(clone.resolve("cli/target")));

    ProcessBuilder builder =
        new ProcessBuilder(clone.resolve("microrunner").toString(), "demo")
            .directory(output.toFile());
    builder.environment().remove("MICRORUNNER_MVN");
    builder.redirectOutput(output.resolve("stdout").toFile());
    builder.redirectError(output.resolve("stderr").toFile());
    long start = System.nanoTime();
    Process demo = builder.start();
    boolean ended = demo.waitFor(15, TimeUnit.MINUTES);
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    if (!ended) {
      demo.descendants().forEach(ProcessHandle::destroyForcibly);
      demo.destroyForcibly();
    }
    String stdout = Files.readString(output.resolve("stdout"));
    String stderr = Files.readString(output.resolve("stderr"));
    assertTrue(ended, "build and demo did not end in 15 minutes");
    assertEquals(0, demo.exitValue(), () -> stdout + stderr);
    List<String> lines = stdout.lines().toList();
    assertEquals("demo: 6/6 jobs completed by 6 ephemeral runners", lines.get(lines.size() - 1));
    assertTrue(
        stderr.startsWith(
            "microrunner: building cli/target/microrunner.jar (it is missing) with Maven...\n"),
        stderr);
    assertTrue(Files.isRegularFile(clone.resolve("cli/target/microrunner.jar")));
    System.out.println("clean checkout: build and demo took " + seconds + " s");
  }

  /** The working tree without build output or git metadata, as a fresh clone has it. */
  private static void copySources(Path from, Path to) throws Exception {
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes)
              throws java.io.IOException {
            String name = dir.getFileName().toString();
            if (!dir.equals(from) && (name.equals("target") || name.startsWith(".git"))) {
              return FileVisitResult.SKIP_SUBTREE;
            }
            Files.createDirectories(to.resolve(from.relativize(dir).toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws java.io.IOException {
            if (!file.getFileName().toString().equals(".git")) {
              Files.copy(
                  file,
                  to.resolve(from.relativize(file).toString()),
                  StandardCopyOption.COPY_ATTRIBUTES);
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
