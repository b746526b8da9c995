package dev.microrunner.cli;

import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.Redactor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code -l FILE}, {@code -v} (repeatable) and {@code --stacktrace}, shared by the commands, and
 * the command's {@link Redactor}: every secret the command learns goes into it, and every log line
 * and error message it prints goes through it.
 */
public final class LoggingOptions {

  private final Redactor redactor = new Redactor();

  @Option(
      names = {"-l", "--log"},
      paramLabel = "FILE",
      description = "Log to FILE instead of stderr (variable <PREFIX>_LOG, e.g. RUNNER_LOG).")
  Path logFile;

  @Option(
      names = {"-v", "--verbose"},
      description =
          "More verbose; repeat for more (-vvv also shows stack traces). Variable <PREFIX>_VERBOSE"
              + " gives a number.")
  boolean[] verbose = new boolean[0];

  @Option(names = "--stacktrace", description = "Show stack traces of errors.")
  boolean stackTrace;

  @Option(
      names = "--log-format",
      paramLabel = "text|json",
      description =
          "text (default): lines for people; json: one JSON object per line with the loop's pool,"
              + " loop and runner id (variable <PREFIX>_LOG_FORMAT).")
  String logFormat;

  /** Configures logging; the options win over {@code <prefix>_LOG} and {@code <prefix>_VERBOSE}. */
  public void apply(String variablePrefix, Map<String, String> environment) {
    Optional<Path> file = Optional.ofNullable(logFile);
    String fileVariable = environment.get(variablePrefix + "_LOG");
    if (file.isEmpty()
        && fileVariable != null
        && !fileVariable.isBlank()
        && !fileVariable.equals("2")
        && !fileVariable.equals("stderr")) {
      file = Optional.of(Path.of(fileVariable));
    }
    int verbosity = verbose.length;
    if (verbosity == 0) {
      verbosity = parseLevel(environment.get(variablePrefix + "_VERBOSE"));
    }
    String format = logFormat != null ? logFormat : environment.get(variablePrefix + "_LOG_FORMAT");
    Logging.configure(verbosity, file, stackTrace, redactor, parseFormat(format));
  }

  /** The secrets this command masks in its output. */
  public Redactor redactor() {
    return redactor;
  }

  /** The logging options of a command, when it has them. */
  static Optional<LoggingOptions> of(CommandLine command) {
    return command.getCommandSpec().mixins().values().stream()
        .map(CommandSpec::userObject)
        .filter(LoggingOptions.class::isInstance)
        .map(LoggingOptions.class::cast)
        .findFirst();
  }

  private static Logging.Format parseFormat(String value) {
    if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("text")) {
      return Logging.Format.TEXT;
    }
    if (value.trim().equalsIgnoreCase("json")) {
      return Logging.Format.JSON;
    }
    throw new InvalidSettingException("log-format", "must be text or json, not '" + value + "'");
  }

  private static int parseLevel(String value) {
    if (value == null || value.isBlank()) {
      return 0;
    }
    try {
      return Math.max(0, Integer.parseInt(value.trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
