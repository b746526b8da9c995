package dev.microrunner.vm;

import java.time.Duration;
import java.util.Optional;

/** A started VM. */
public interface VmHandle {
  String name();

  /**
   * Waits until the VM has ended.
   *
   * @return the workload's exit status, or empty when the timeout passed first. 125, 126 and 127
   *     mean the runtime could not set up the VM, could not execute the entrypoint, or could not
   *     find it (see {@link ExitStatus}).
   */
  Optional<Integer> awaitExit(Duration timeout) throws InterruptedException;

  /** The exit status once the VM has ended, without waiting. */
  Optional<Integer> exitStatus();

  /**
   * Asks the VM to end (SIGTERM), waits up to {@code grace}, then forces it (SIGKILL). Returns once
   * the VM has ended. Does nothing when it has already ended.
   */
  void stop(Duration grace) throws VmException;

  boolean isRunning();
}
