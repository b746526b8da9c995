package dev.microrunner.cli;

import dev.microrunner.github.GitHubAuthenticationException;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubPermissionException;
import dev.microrunner.github.InvalidCredentialsException;
import dev.microrunner.loop.Redaction;
import dev.microrunner.loop.RuntimeUnavailableException;
import dev.microrunner.vm.VmException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/** {@code java -jar microrunner.jar ...}. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit status (see {@link ExitCodes}). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The {@code microrunner} command line with the error handling and exit statuses. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new MicrorunnerCommand());
    commandLine.setExecutionExceptionHandler(new ShortErrors());
    commandLine.setExitCodeExceptionMapper(Main::exitCode);
    // The last of a repeated option wins, so wrappers can append overrides.
    commandLine.setOverwrittenOptionsAllowed(true);
    return commandLine;
  }

  /** The exit status for a failure that ended a command. */
  static int exitCode(Throwable failure) {
    if (failure instanceof CommandLine.ParameterException
        || failure instanceof IllegalArgumentException) {
      return ExitCodes.USAGE;
    }
    if (failure instanceof GitHubAuthenticationException
        || failure instanceof GitHubPermissionException
        || failure instanceof GitHubNotFoundException
        || failure instanceof InvalidCredentialsException) {
      return ExitCodes.GITHUB_REFUSED;
    }
    if (failure instanceof RuntimeUnavailableException || failure instanceof VmException) {
      return ExitCodes.RUNTIME_UNAVAILABLE;
    }
    return ExitCodes.FAILURE;
  }

  /** One line on stderr naming what failed; the stack trace only with --stacktrace or -vvv. */
  private static final class ShortErrors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(
        Exception failure, CommandLine commandLine, ParseResult parseResult) {
      String message = failure.getMessage();
      if (message == null || message.isBlank()) {
        message = failure.getClass().getSimpleName();
      }
      String kind =
          failure instanceof GitHubException
              ? "GitHub: "
              : failure instanceof IllegalArgumentException ? "invalid setting: " : "";
      commandLine
          .getErr()
          .println(
              Redaction.redact(
                  "microrunner " + commandLine.getCommandName() + ": " + kind + message));
      if (Logging.stackTraces()) {
        java.io.StringWriter trace = new java.io.StringWriter();
        failure.printStackTrace(new java.io.PrintWriter(trace));
        commandLine.getErr().print(Redaction.redact(trace.toString()));
      }
      commandLine.getErr().flush();
      return exitCode(failure);
    }
  }
}
