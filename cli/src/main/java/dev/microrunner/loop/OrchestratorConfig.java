package dev.microrunner.loop;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How the orchestrator runs its loops. Invalid values raise an {@link InvalidSettingException}
 * naming the setting.
 *
 * @param loops how many runner loops
 * @param firstLoop the number of the first loop (loops are numbered from it)
 * @param prefix the VM name prefix; also what crash recovery matches on
 * @param isolation one directory per loop (default); without it all loops share one directory and
 *     start {@code isolationOffDelay} apart
 * @param isolationOffDelay the delay between loop starts without isolation
 * @param parallelStart how many loops may be starting (not yet registered) at once; 1 keeps the
 *     earlier behaviour: loop i+1 starts once loop i's first runner registered
 * @param startTimeout how long a starting loop may hold back the next ones
 * @param runtime the runtime name, or {@code auto}
 * @param runtimeEnvironment extra environment of the runtime's commands (e.g. {@code
 *     CONTAINERS_CONF})
 * @param baseDirectory where the loop directories go; absent means a fresh temporary directory
 * @param stateDirectory where the per-instance state files for crash recovery go
 * @param runner what each loop's runners look like
 */
public record OrchestratorConfig(
    int loops,
    int firstLoop,
    String prefix,
    boolean isolation,
    Duration isolationOffDelay,
    int parallelStart,
    Duration startTimeout,
    String runtime,
    Map<String, String> runtimeEnvironment,
    Optional<Path> baseDirectory,
    Path stateDirectory,
    RunnerConfig runner) {

  public static final String AUTO_RUNTIME = "auto";

  public OrchestratorConfig {
    if (loops < 1) {
      throw new InvalidSettingException("loops", "must be at least 1, not " + loops);
    }
    if (firstLoop < 1) {
      throw new InvalidSettingException("loop", "must be at least 1, not " + firstLoop);
    }
    if (prefix == null || !prefix.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")) {
      throw new InvalidSettingException(
          "prefix",
          "must be 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit, not '"
              + prefix
              + "'");
    }
    Objects.requireNonNull(isolationOffDelay, "sleep");
    if (isolationOffDelay.isNegative()) {
      throw new InvalidSettingException("sleep", "must not be negative");
    }
    if (parallelStart < 1) {
      throw new InvalidSettingException(
          "parallel-start", "must be at least 1, not " + parallelStart);
    }
    Objects.requireNonNull(startTimeout, "start-timeout");
    if (startTimeout.isNegative() || startTimeout.isZero()) {
      throw new InvalidSettingException("start-timeout", "must be positive");
    }
    if (runtime == null || runtime.isBlank()) {
      throw new InvalidSettingException("runtime", "must not be empty");
    }
    runtimeEnvironment = Map.copyOf(runtimeEnvironment);
    Objects.requireNonNull(baseDirectory, "baseDirectory");
    Objects.requireNonNull(stateDirectory, "stateDirectory");
    Objects.requireNonNull(runner, "runner");
  }

  public static Builder builder(RunnerConfig runner) {
    return new Builder(runner);
  }

  /**
   * The default state directory: {@code $STATE_DIRECTORY} (systemd), else {@code
   * $XDG_STATE_HOME/microrunner}, else {@code ~/.local/state/microrunner}.
   */
  public static Path defaultStateDirectory(Map<String, String> environment) {
    String systemd = environment.get("STATE_DIRECTORY");
    if (systemd != null && !systemd.isBlank()) {
      return Path.of(systemd.split(":", -1)[0]);
    }
    String xdg = environment.get("XDG_STATE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "microrunner");
    }
    return Path.of(System.getProperty("user.home"), ".local", "state", "microrunner");
  }

  /** Builds an {@link OrchestratorConfig}; defaults are those of the command line. */
  public static final class Builder {
    private final RunnerConfig runner;
    private int loops = 1;
    private int firstLoop = 1;
    private String prefix = "GH-runner";
    private boolean isolation = true;
    private Duration isolationOffDelay = Duration.ofSeconds(30);
    private int parallelStart = 1;
    private Duration startTimeout = Duration.ofMinutes(2);
    private String runtime = AUTO_RUNTIME;
    private Map<String, String> runtimeEnvironment = new LinkedHashMap<>();
    private Optional<Path> baseDirectory = Optional.empty();
    private Path stateDirectory = defaultStateDirectory(System.getenv());

    private Builder(RunnerConfig runner) {
      this.runner = runner;
    }

    public Builder loops(int loops) {
      this.loops = loops;
      return this;
    }

    public Builder firstLoop(int firstLoop) {
      this.firstLoop = firstLoop;
      return this;
    }

    public Builder prefix(String prefix) {
      this.prefix = prefix;
      return this;
    }

    public Builder isolation(boolean isolation) {
      this.isolation = isolation;
      return this;
    }

    public Builder isolationOffDelay(Duration isolationOffDelay) {
      this.isolationOffDelay = isolationOffDelay;
      return this;
    }

    public Builder parallelStart(int parallelStart) {
      this.parallelStart = parallelStart;
      return this;
    }

    public Builder startTimeout(Duration startTimeout) {
      this.startTimeout = startTimeout;
      return this;
    }

    public Builder runtime(String runtime) {
      this.runtime = runtime;
      return this;
    }

    public Builder runtimeEnvironment(Map<String, String> runtimeEnvironment) {
      this.runtimeEnvironment = new LinkedHashMap<>(runtimeEnvironment);
      return this;
    }

    public Builder baseDirectory(Optional<Path> baseDirectory) {
      this.baseDirectory = baseDirectory;
      return this;
    }

    public Builder stateDirectory(Path stateDirectory) {
      this.stateDirectory = stateDirectory;
      return this;
    }

    public OrchestratorConfig build() {
      return new OrchestratorConfig(
          loops,
          firstLoop,
          prefix,
          isolation,
          isolationOffDelay,
          parallelStart,
          startTimeout,
          runtime,
          runtimeEnvironment,
          baseDirectory,
          stateDirectory,
          runner);
    }
  }
}
