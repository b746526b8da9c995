package dev.microrunner.cli;

import dev.microrunner.loop.OrchestratorConfig;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code --state-dir}, shared by {@code orchestrator} and {@code runner}. */
public final class StateDirectoryOption {

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description =
          "Where crash-recovery state goes (default $STATE_DIRECTORY, $XDG_STATE_HOME/microrunner"
              + " or ~/.local/state/microrunner).")
  Path directory;

  /** The option's directory, else the default the environment gives. */
  public Path resolve(Map<String, String> environment) {
    return directory != null ? directory : OrchestratorConfig.defaultStateDirectory(environment);
  }
}
