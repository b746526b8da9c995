package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A VM whose lifetime is one attached runtime process (podman run, krunvm start, workload). */
final class RunningVm implements VmHandle {
  private static final Logger LOG = LoggerFactory.getLogger(RunningVm.class);

  /** How a backend asks its VM to end: SIGTERM, up to the grace period, then SIGKILL. */
  @FunctionalInterface
  interface Stopper {
    void stop(Running process, Duration grace) throws VmException, InterruptedException;
  }

  /**
   * Removes what an ended VM left (a krunvm definition, an ownership record, the runtime's
   * bookkeeping); runs once, when the VM is stopped or deleted or its runtime closes. Not when an
   * exit is merely seen: that happens on a runner loop's path from one VM to the next, and the loop
   * deletes the VM in the background.
   */
  @FunctionalInterface
  interface Cleanup {
    void ended(RunningVm vm) throws VmException;
  }

  /** After a forced stop, the attached process must end promptly; this bounds the wait. */
  private static final Duration AFTER_FORCE = Duration.ofSeconds(30);

  private final String name;
  private final Running process;
  private final Stopper stopper;
  private final Cleanup cleanup;
  private final AtomicBoolean cleanedUp = new AtomicBoolean();
  private volatile boolean killed;

  RunningVm(String name, Running process, Stopper stopper, Cleanup cleanup) {
    this.name = name;
    this.process = process;
    this.stopper = stopper;
    this.cleanup = cleanup;
  }

  @Override
  public String name() {
    return name;
  }

  /** The attached runtime or workload process. */
  Running process() {
    return process;
  }

  @Override
  public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
    return process.awaitExit(timeout);
  }

  @Override
  public Optional<Integer> exitStatus() {
    return process.exitStatus();
  }

  /** Whether the attached process had to be killed, so that it could not clean up after itself. */
  boolean killed() {
    return killed;
  }

  @Override
  public void stop(Duration grace) throws VmException {
    try {
      if (process.exitStatus().isEmpty()) {
        stopper.stop(process, grace);
        if (process.awaitExit(AFTER_FORCE).isEmpty()) {
          killed = true;
          process.kill();
          if (process.awaitExit(AFTER_FORCE).isEmpty()) {
            throw new VmException("VM " + name + " did not end after it was killed");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmException("interrupted while stopping VM " + name, e);
    }
    cleanUpOnce();
  }

  @Override
  public boolean isRunning() {
    return exitStatus().isEmpty();
  }

  /** Runs the clean-up unless it ran already. */
  void cleanUpOnce() {
    if (cleanedUp.compareAndSet(false, true)) {
      try {
        cleanup.ended(this);
      } catch (VmException e) {
        LOG.warn("clean-up after VM {} failed: {}", name, e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "VM " + name;
  }
}
