package dev.microrunner.cli;

import dev.microrunner.github.sim.SimulatedRunner;

/**
 * The process entry point of the simulated actions/runner that {@code microrunner sim
 * --runner-dist} and the demo write; the runner itself lives in the simulator's library.
 */
public final class SimulatedRunnerMain {
  private SimulatedRunnerMain() {}

  public static void main(String[] args) {
    System.exit(
        SimulatedRunner.execute(
            args, System.getenv(), System.out, System.err, Signals::onEachTermination));
  }
}
