package dev.microrunner.vm.internal;

import java.time.Instant;

/** A process's start time, which tells a live owner or workload from a reused pid. */
public final class ProcessStart {
  private ProcessStart() {}

  /** Epoch milliseconds, or 0 when the platform does not report it. */
  public static long millis(ProcessHandle process) {
    return process.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
  }
}
