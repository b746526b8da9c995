package dev.microrunner.github.sim;

import dev.microrunner.github.sim.internal.RunnerListener;
import java.io.PrintStream;
import java.util.Map;

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
 * else {@code MICRORUNNER_RUNNER_ROOT}, else the working directory. SIGTERM marks the runner
 * offline and exits promptly.
 */
public final class SimulatedRunner {

  /** The environment variable that names the runner root (set by the distribution's scripts). */
  public static final String ROOT_ENV = "MICRORUNNER_RUNNER_ROOT";

  private SimulatedRunner() {}

  /**
   * Runs the listener in this JVM and returns its exit status. The process entry point belongs to
   * the program that ships the distribution (the CLI's {@code SimulatedRunnerMain}): a library
   * never ends the JVM.
   */
  public static int execute(
      String[] args, Map<String, String> environment, PrintStream out, PrintStream err) {
    return RunnerListener.execute(args, environment, out, err);
  }
}
