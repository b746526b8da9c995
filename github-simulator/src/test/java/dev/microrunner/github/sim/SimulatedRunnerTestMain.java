package dev.microrunner.github.sim;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The simulated runner as a process, for the tests (the CLI ships its own entry point). Signals
 * reach the listener through a shutdown hook that waits for it to finish, so a signalled runner
 * cancels its job as the CLI's does; the exit status is then the JVM's (143 for SIGTERM), not the
 * listener's, which the CLI's tests check.
 */
public final class SimulatedRunnerTestMain {
  private SimulatedRunnerTestMain() {}

  public static void main(String[] args) {
    CountDownLatch finished = new CountDownLatch(1);
    int status =
        SimulatedRunner.execute(
            args,
            System.getenv(),
            System.out,
            System.err,
            onTermination ->
                Runtime.getRuntime()
                    .addShutdownHook(
                        new Thread(
                            () -> {
                              onTermination.run();
                              try {
                                finished.await(40, TimeUnit.SECONDS);
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                            })));
    finished.countDown();
    System.exit(status);
  }
}
