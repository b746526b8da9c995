package dev.microrunner.vm;

/**
 * The exit statuses that runtimes (podman, krunvm's init, a shell) use when the workload never ran.
 * Every backend reports a failed start through these, so callers can tell "the VM could not start"
 * from "the job failed".
 */
public final class ExitStatus {
  /** The runtime could not set up the VM (bad image, bad option, runtime error). */
  public static final int RUNTIME_FAILED = 125;

  /** The entrypoint exists but could not be executed. */
  public static final int NOT_EXECUTABLE = 126;

  /** The entrypoint was not found. */
  public static final int NOT_FOUND = 127;

  private ExitStatus() {}

  public static boolean isStartFailure(int status) {
    return status == RUNTIME_FAILED || status == NOT_EXECUTABLE || status == NOT_FOUND;
  }

  /** A short human-readable explanation of a start failure, or null for other statuses. */
  public static String describe(int status) {
    return switch (status) {
      case RUNTIME_FAILED -> "the runtime could not set up the VM";
      case NOT_EXECUTABLE -> "the entrypoint could not be executed";
      case NOT_FOUND -> "the entrypoint was not found";
      default -> null;
    };
  }
}
