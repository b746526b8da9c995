package dev.microrunner.loop;

import java.util.Objects;

/**
 * A setting of a runner loop or orchestrator has an impossible value. {@link #setting()} names it
 * the way the command line's long options and the configuration file's keys do ({@code cpus},
 * {@code parallel-start}), so that each front end can point at its own spelling.
 */
public class InvalidSettingException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String setting;
  private final String problem;

  /**
   * @param setting the setting's name, e.g. {@code memory}
   * @param problem what is wrong with its value, e.g. {@code must be at least 64 MiB, not 10 MiB}
   */
  public InvalidSettingException(String setting, String problem) {
    this(setting, problem, null);
  }

  public InvalidSettingException(String setting, String problem, Throwable cause) {
    super(setting + " " + problem, cause);
    this.setting = Objects.requireNonNull(setting, "setting");
    this.problem = Objects.requireNonNull(problem, "problem");
  }

  /** The setting's name, as the long command-line option spells it. */
  public String setting() {
    return setting;
  }

  /** What is wrong, without the setting's name. */
  public String problem() {
    return problem;
  }
}
