package dev.microrunner.vm;

import java.util.List;
import java.util.Optional;

/**
 * A runtime command (podman, krunvm, buildah) failed. Carries the command line with secrets
 * redacted, the exit status (empty when it timed out or could not be launched) and the tail of its
 * error output.
 */
public class RuntimeCommandException extends VmException {
  private static final long serialVersionUID = 1L;

  private final String problem;
  private final List<String> command;
  private final Integer exitStatus;
  private final String outputTail;

  /**
   * @param command the argv, already redacted
   * @param exitStatus null when the command did not exit by itself
   * @param outputTail the last lines of the stream the tool reports errors on, already redacted
   */
  public RuntimeCommandException(
      String problem, List<String> command, Integer exitStatus, String outputTail) {
    super(message(problem, command, exitStatus, outputTail));
    this.problem = problem;
    this.command = List.copyOf(command);
    this.exitStatus = exitStatus;
    this.outputTail = outputTail;
  }

  private static String message(
      String problem, List<String> command, Integer exitStatus, String outputTail) {
    StringBuilder message = new StringBuilder(problem).append(": `");
    message.append(String.join(" ", command)).append('`');
    if (exitStatus != null) {
      message.append(" exited with status ").append(exitStatus);
    }
    if (!outputTail.isBlank()) {
      message.append(": ").append(outputTail.strip());
    }
    return message.toString();
  }

  /** What failed, without the command ("cannot create VM x"). */
  public String problem() {
    return problem;
  }

  /** The command line, with secrets redacted. */
  public List<String> command() {
    return command;
  }

  public Optional<Integer> exitStatus() {
    return Optional.ofNullable(exitStatus);
  }

  public String outputTail() {
    return outputTail;
  }
}
