package dev.microrunner.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** The jar failsafe built, and helpers to run it as a real process and watch its children. */
final class BuiltJar {

  private BuiltJar() {}

  static Path jar() {
    String configured = System.getProperty("microrunner.jar");
    if (configured == null) {
      throw new IllegalStateException("run through failsafe: microrunner.jar is not set");
    }
    return Path.of(configured).toAbsolutePath();
  }

  /** The repository root: the jar is ROOT/cli/target/microrunner.jar. */
  static Path repositoryRoot() {
    return jar().getParent().getParent().getParent();
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * {@code java -Djava.io.tmpdir=TMP -jar microrunner.jar ARGS}, output to files in {@code dir}.
   */
  static Process start(Path tmp, Path dir, String... arguments) throws IOException {
    return start(tmp, dir, Map.of(), arguments);
  }

  /** As {@link #start(Path, Path, String...)}, with {@code environment} added to the child's. */
  static Process start(Path tmp, Path dir, Map<String, String> environment, String... arguments)
      throws IOException {
    List<String> command =
        new ArrayList<>(List.of(java(), "-Djava.io.tmpdir=" + tmp, "-jar", jar().toString()));
    command.addAll(List.of(arguments));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("RUNNER_PAT");
    builder.environment().putAll(environment);
    builder.redirectOutput(dir.resolve("stdout").toFile());
    builder.redirectError(dir.resolve("stderr").toFile());
    return builder.start();
  }

  /**
   * Records every descendant {@code process} has while it runs (sampled every 50 ms), so that a
   * test can check afterwards that none of them is still alive.
   */
  static final class Descendants implements AutoCloseable {
    private final Set<ProcessHandle> seen = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();

    Descendants(Process process) {
      // Ended by close(), which shuts the sampler down.
      var unused =
          sampler.scheduleWithFixedDelay(
              () -> process.descendants().forEach(seen::add), 0, 50, TimeUnit.MILLISECONDS);
    }

    Set<ProcessHandle> seen() {
      return Set.copyOf(seen);
    }

    List<ProcessHandle> alive() {
      return seen.stream().filter(ProcessHandle::isAlive).toList();
    }

    @Override
    public void close() {
      sampler.shutdownNow();
    }
  }
}
