package dev.microrunner.cli;

import dev.microrunner.github.GitHubException;
import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RuntimeUnavailableException;
import dev.microrunner.vm.VmException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
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
    if (failure instanceof GitHubException github && github.isRefusal()) {
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
      Redactor redactor =
          LoggingOptions.of(commandLine).map(LoggingOptions::redactor).orElseGet(Redactor::new);
      commandLine
          .getErr()
          .println(
              redactor.redact(
                  "microrunner "
                      + commandLine.getCommandName()
                      + ": "
                      + describe(failure, commandLine)));
      if (Logging.stackTraces()) {
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace));
        commandLine.getErr().print(redactor.redact(trace.toString()));
      }
      commandLine.getErr().flush();
      return exitCode(failure);
    }
  }

  /** What failed, in the command line's terms: an invalid setting is named by its option. */
  static String describe(Exception failure, CommandLine commandLine) {
    if (failure instanceof ConfigFileException) {
      return failure.getMessage();
    }
    if (failure instanceof InvalidSettingException invalid) {
      return "invalid " + option(invalid.setting(), commandLine) + ": " + invalid.problem();
    }
    String message = failure.getMessage();
    if (message == null || message.isBlank()) {
      message = failure.getClass().getSimpleName();
    }
    if (failure instanceof GitHubException) {
      return "GitHub: " + message;
    }
    return failure instanceof IllegalArgumentException ? "invalid setting: " + message : message;
  }

  /**
   * The options that give a setting, e.g. {@code -c/--cpus} for {@code cpus}: the command's own, or
   * the runner options the orchestrator takes after {@code --}.
   */
  static String option(String setting, CommandLine commandLine) {
    for (CommandSpec spec :
        new CommandSpec[] {
          commandLine.getCommandSpec(), new CommandLine(new RunnerCommand()).getCommandSpec()
        }) {
      Optional<OptionSpec> option = Optional.ofNullable(spec.findOption("--" + setting));
      if (option.isPresent()) {
        return String.join("/", option.get().names());
      }
    }
    return setting;
  }
}
