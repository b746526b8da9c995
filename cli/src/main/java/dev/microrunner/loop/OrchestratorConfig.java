package dev.microrunner.loop;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How the orchestrator runs its loops. Invalid values raise an {@link InvalidSettingException}
 * naming the setting.
 *
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
 * @param pools the pools of loops, each with its own runner configuration and loop count; the
 *     command line without a configuration file has one, {@value Pool#DEFAULT_NAME}
 */
public record OrchestratorConfig(
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
    List<Pool> pools) {

  public static final String AUTO_RUNTIME = "auto";

  public OrchestratorConfig {
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
    pools = List.copyOf(pools);
    checkPools(pools, isolation);
  }

  /**
   * Checks a set of pools: at least one, names unique, and only one pool without isolation (its
   * loops share one directory).
   */
  static void checkPools(List<Pool> pools, boolean isolation) {
    if (pools.isEmpty()) {
      throw new InvalidSettingException("pools", "must name at least one pool");
    }
    Set<String> names = new HashSet<>();
    for (Pool pool : pools) {
      if (!names.add(pool.name())) {
        throw new InvalidSettingException("pools", "name pool '" + pool.name() + "' twice");
      }
    }
    if (!isolation && pools.size() > 1) {
      throw new InvalidSettingException(
          "no-isolation", "works with one pool only, not " + pools.size());
    }
  }

  /**
   * One pool, {@value Pool#DEFAULT_NAME}, of {@code runner}'s loops; set their number with {@link
   * Builder#loops}.
   */
  public static Builder builder(RunnerConfig runner) {
    return new Builder(Objects.requireNonNull(runner, "runner"));
  }

  /** Several pools. */
  public static Builder builder(List<Pool> pools) {
    Builder builder = new Builder(null);
    builder.pools = List.copyOf(pools);
    return builder;
  }

  /** How many loops in all pools. */
  public int loops() {
    return pools.stream().mapToInt(Pool::loops).sum();
  }

  /** The first pool's runner configuration: the only one without a configuration file. */
  public RunnerConfig runner() {
    return pools.get(0).runner();
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
    private List<Pool> pools;
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

    /** The number of loops of the one pool of {@link #builder(RunnerConfig)}. */
    public Builder loops(int loops) {
      this.loops = loops;
      return this;
    }

    /** Replaces the pools. */
    public Builder pools(List<Pool> pools) {
      this.pools = List.copyOf(pools);
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
      List<Pool> all = pools != null ? pools : List.of(Pool.of(Pool.DEFAULT_NAME, loops, runner));
      return new OrchestratorConfig(
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
          all);
    }
  }
}
