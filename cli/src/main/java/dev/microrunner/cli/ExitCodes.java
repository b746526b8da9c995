package dev.microrunner.cli;

/** The exit statuses of {@code microrunner}; docs/operations.md explains each. */
public final class ExitCodes {
  /** Success, including a clean stop on SIGINT or SIGTERM. */
  public static final int OK = 0;

  /** A runtime failure: something went wrong while running. */
  public static final int FAILURE = 1;

  /** The command line is wrong (picocli's usage error status). */
  public static final int USAGE = 2;

  /** GitHub refused the credentials, the scope or the runner group. */
  public static final int GITHUB_REFUSED = 3;

  /** The VM runtime asked for is not installed or cannot run here. */
  public static final int RUNTIME_UNAVAILABLE = 4;

  private ExitCodes() {}
}
