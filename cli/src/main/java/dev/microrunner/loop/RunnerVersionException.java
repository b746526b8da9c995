package dev.microrunner.loop;

import java.util.Objects;

/**
 * GitHub will not let the image's actions/runner version take jobs: it refused the version, or told
 * the runner to update itself (a download in every ephemeral VM, which microrunner does not let
 * happen). The image must be rebuilt; the message says how.
 */
public final class RunnerVersionException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String runnerVersion;

  RunnerVersionException(String message, String runnerVersion) {
    super(Objects.requireNonNull(message, "message"));
    this.runnerVersion = Objects.requireNonNull(runnerVersion, "runnerVersion");
  }

  /** The version the runner announced, or {@code "unknown"}. */
  public String runnerVersion() {
    return runnerVersion;
  }
}
