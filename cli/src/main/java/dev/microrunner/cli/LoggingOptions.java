package dev.microrunner.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code -l FILE}, {@code -v} (repeatable) and {@code --stacktrace}, shared by the commands. */
public final class LoggingOptions {

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
    Logging.configure(verbosity, file, stackTrace);
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
