package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner.Running;
import java.time.Duration;
import java.util.Optional;

/** A workload that ended before it began: the status a shell would give (126, 127). */
final class FinishedCommand implements Running {
  private final int exitStatus;

  FinishedCommand(int exitStatus) {
    this.exitStatus = exitStatus;
  }

  @Override
  public Optional<ProcessHandle> process() {
    return Optional.empty();
  }

  @Override
  public Optional<Integer> awaitExit(Duration timeout) {
    return Optional.of(exitStatus);
  }

  @Override
  public Optional<Integer> exitStatus() {
    return Optional.of(exitStatus);
  }

  @Override
  public void kill() {}
}
