package dev.microrunner.loop;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A named set of runner loops that share one runner configuration: {@code loops} loops, each making
 * one runner at a time as {@code runner} describes. An orchestrator runs one pool or several (each
 * with its own labels, group, scope, credentials, image and VM size), and can add, remove and
 * replace pools while it runs ({@link Orchestrator#reconfigure}).
 *
 * @param name the pool's name: 1 to 63 lower-case letters, digits and '-', starting with a letter
 *     or digit; the {@code pool} label of its metrics and the first column of {@code microrunner
 *     status}
 * @param loops how many loops the pool keeps running; for a demand-driven pool, how many it starts
 *     with (its {@code minIdle})
 * @param runtime the runtime of its VMs; empty: the orchestrator's
 * @param runner what each of its loops' runners look like
 * @param scaling empty for a fixed pool of {@code loops} loops; else how the pool follows the
 *     demand of queued jobs ({@link Orchestrator.Builder#demand})
 */
public record Pool(
    String name,
    int loops,
    Optional<String> runtime,
    RunnerConfig runner,
    Optional<Scaling> scaling) {

  /** The name of the only pool of an orchestrator configured without pools (the command line). */
  public static final String DEFAULT_NAME = "default";

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

  public Pool {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidSettingException(
          "name",
          "must be 1 to 63 lower-case letters, digits or '-', starting with a letter or digit, not '"
              + name
              + "'");
    }
    Objects.requireNonNull(scaling, "scaling");
    if (scaling.isPresent() && loops != scaling.get().minIdle()) {
      throw new IllegalArgumentException(
          "a demand-driven pool starts with min-idle loops, not " + loops);
    }
    if (scaling.isEmpty() && loops < 1) {
      throw new InvalidSettingException("loops", "must be at least 1, not " + loops);
    }
    Objects.requireNonNull(runtime, "runtime");
    if (runtime.isPresent() && runtime.get().isBlank()) {
      throw new InvalidSettingException("runtime", "must not be empty");
    }
    Objects.requireNonNull(runner, "runner");
  }

  /** A fixed pool of {@code loops} loops. */
  public Pool(String name, int loops, Optional<String> runtime, RunnerConfig runner) {
    this(name, loops, runtime, runner, Optional.empty());
  }

  /** A fixed pool on the orchestrator's runtime. */
  public static Pool of(String name, int loops, RunnerConfig runner) {
    return new Pool(name, loops, Optional.empty(), runner);
  }

  /** A demand-driven pool: {@code scaling.minIdle()} loops at first. */
  public static Pool scaled(
      String name, Scaling scaling, Optional<String> runtime, RunnerConfig runner) {
    return new Pool(name, scaling.minIdle(), runtime, runner, Optional.of(scaling));
  }

  /** This pool with another loop count (a fixed pool). */
  public Pool withLoops(int count) {
    return new Pool(name, count, runtime, runner);
  }

  /**
   * The most VMs this pool runs at once: its loop count, or its {@code max} when it follows demand.
   */
  public int maxVms() {
    return scaling.map(Scaling::max).orElse(loops);
  }

  /**
   * Whether this pool's runners are made as {@code other}'s are: everything but the name and the
   * loop count is the same (a loop secret is compared by its value).
   */
  public boolean sameRunnersAs(Pool other) {
    return runtime.equals(other.runtime)
        && runner.secret().map(s -> s.reveal()).equals(other.runner.secret().map(s -> s.reveal()))
        && withoutSecret(runner).equals(withoutSecret(other.runner));
  }

  private static RunnerConfig withoutSecret(RunnerConfig config) {
    return config.toBuilder().secret(Optional.empty()).build();
  }
}
