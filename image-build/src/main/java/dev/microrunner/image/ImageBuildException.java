package dev.microrunner.image;

import dev.microrunner.vm.RuntimeCommandException;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * An image could not be built, listed or removed. When a command failed, it carries the command,
 * its exit status and the tail of its standard error. Image builds handle no secret, so nothing
 * needs redacting here.
 */
public class ImageBuildException extends IOException {
  private static final long serialVersionUID = 1L;

  private final List<String> command;
  private final Integer exitStatus;
  private final String stderrTail;

  /** A failure before or without a command, e.g. a checksum that is not pinned. */
  public ImageBuildException(String message) {
    super(message);
    this.command = List.of();
    this.exitStatus = null;
    this.stderrTail = "";
  }

  /** A failure that is not a command's exit status, e.g. the program is not installed. */
  public ImageBuildException(String message, Throwable cause) {
    super(message, cause);
    this.command = List.of();
    this.exitStatus = null;
    this.stderrTail = "";
  }

  /**
   * A command that could not be run to its end (not installed, timed out): command, exit status and
   * output tail are the runner's.
   */
  ImageBuildException(String message, RuntimeCommandException cause) {
    super(message, cause);
    this.command = cause.command();
    this.exitStatus = cause.exitStatus().orElse(null);
    this.stderrTail = cause.outputTail();
  }

  /** A command that exited with a non-zero status. */
  public ImageBuildException(List<String> command, int exitStatus, String stderrTail) {
    super(
        String.join(" ", command.subList(0, Math.min(2, command.size())))
            + " exited with status "
            + exitStatus
            + (stderrTail.isBlank() ? "" : ": " + stderrTail.strip()));
    this.command = List.copyOf(command);
    this.exitStatus = exitStatus;
    this.stderrTail = stderrTail;
  }

  /** The command that failed; empty when the failure was not a command's. */
  public List<String> command() {
    return command;
  }

  /** The failed command's exit status, if a command ran. */
  public Optional<Integer> exitStatus() {
    return Optional.ofNullable(exitStatus);
  }

  /** The last lines the failed command wrote on standard error. */
  public String stderrTail() {
    return stderrTail;
  }
}
