package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.RunnerListener;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The simulated actions/runner listener that {@link SimulatedRunnerDistribution}'s scripts run.
 *
 * <ul>
 *   <li>{@code configure --url URL --token T --name N --labels a,b [--runnergroup G] [--work D]
 *       [--ephemeral] [--replace] [--unattended] [--disableupdate]} registers with a registration
 *       token and writes {@code .runner} and {@code .credentials} (0600) in the runner root;
 *   <li>{@code configure remove --token T} removes that registration;
 *   <li>{@code run [--jitconfig X]} connects, takes jobs that match its labels and runs them; an
 *       ephemeral (or JIT) runner exits 0 after one job, and the simulator removes it.
 * </ul>
 *
 * <p>Every option can also come from {@code ACTIONS_RUNNER_INPUT_<NAME>} (e.g. {@code
 * ACTIONS_RUNNER_INPUT_JITCONFIG}), as with the real runner. The runner root is {@code --root},
 * else {@code MICRORUNNER_RUNNER_ROOT}, else the working directory. {@code Runner.Listener
 * --version} prints the version.
 *
 * <p>Its behaviour follows upstream's where a caller can observe it: exit statuses, terminal lines,
 * the time a cancelled job takes, version refusals and updates, job hooks and diagnostic logs (see
 * {@code docs/github.md}).
 */
public final class SimulatedRunner {

  /** The environment variable that names the runner root (set by the distribution's scripts). */
  public static final String ROOT_ENV = "MICRORUNNER_RUNNER_ROOT";

  private SimulatedRunner() {}

  /**
   * Runs the listener in this JVM and returns its exit status. The process entry point belongs to
   * the program that ships the distribution (the CLI's {@code SimulatedRunnerMain}): a library
   * never ends the JVM, nor takes over its signals.
   *
   * @param onTermination is handed the action to run on each SIGINT and SIGTERM, which the entry
   *     point must install in place of the JVM's default (exit at once): the listener then cancels
   *     its job and returns its status
   */
  public static int execute(
      String[] args,
      Map<String, String> environment,
      PrintStream out,
      PrintStream err,
      Consumer<Runnable> onTermination) {
    return RunnerListener.execute(args, environment, out, err, onTermination);
  }
}
