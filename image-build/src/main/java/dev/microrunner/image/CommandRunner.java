package dev.microrunner.image;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Runs one external command to completion: the seam between image builds and the processes they
 * start, so tests can check the exact argv without running buildah or podman.
 */
public interface CommandRunner {

  /**
   * Runs {@code argv} with this process's environment plus {@code environment}, streams its output
   * to the log, and returns once it has ended, whatever its exit status.
   *
   * @throws IOException when the command could not be started (e.g. it is not installed)
   */
  CommandResult run(List<String> argv, Map<String, String> environment)
      throws IOException, InterruptedException;

  /** How a command ended: its exit status, its standard output and its last stderr lines. */
  record CommandResult(int exitStatus, List<String> stdout, String stderrTail) {
    public CommandResult {
      stdout = List.copyOf(stdout);
    }
  }
}
