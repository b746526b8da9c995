package dev.microrunner.github.sim;

/** The simulated runner as a process, for the tests (the CLI ships its own entry point). */
public final class SimulatedRunnerTestMain {
  private SimulatedRunnerTestMain() {}

  public static void main(String[] args) {
    System.exit(SimulatedRunner.execute(args, System.getenv(), System.out, System.err));
  }
}
