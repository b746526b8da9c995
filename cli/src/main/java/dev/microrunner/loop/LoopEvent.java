package dev.microrunner.loop;

import dev.microrunner.handshake.RunnerId;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Something that happened in a runner loop, stamped with wall-clock time and a monotonic reading
 * ({@link System#nanoTime()}) so that listeners can measure gaps precisely.
 *
 * @param kind what happened
 * @param loop the loop number
 * @param runner the runner concerned, absent for loop-level events
 * @param time when it happened (wall clock)
 * @param nanoTime when it happened ({@link System#nanoTime()})
 * @param exitStatus the VM's exit status, for {@link Kind#VM_EXITED} only
 * @param detail a short human-readable note, never a secret (may be empty)
 */
public record LoopEvent(
    Kind kind,
    int loop,
    Optional<RunnerId> runner,
    Instant time,
    long nanoTime,
    OptionalInt exitStatus,
    String detail) {

  /** The kinds of event, in the order they happen for one runner. */
  public enum Kind {
    /** The loop thread started. */
    LOOP_STARTED,
    /** A runner id exists and its registration (JIT config or token) was obtained. */
    RUNNER_CREATED,
    /** The VM for the runner was started. */
    VM_STARTED,
    /** The agent published {@code <id>.tkn}: the runner is registered. */
    REGISTERED,
    /** The VM ended; {@link #exitStatus()} holds its status when known. */
    VM_EXITED,
    /** The runner's registration is gone from GitHub (removed by the host or already gone). */
    REGISTRATION_REMOVED,
    /** Something failed; the loop backs off for the time in {@link #detail()}. */
    BACKING_OFF,
    /** The loop ended; {@link #detail()} holds the reason. */
    LOOP_ENDED
  }

  public LoopEvent {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(runner, "runner");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(exitStatus, "exitStatus");
    Objects.requireNonNull(detail, "detail");
  }

  static LoopEvent of(Kind kind, int loop, RunnerId runner, String detail) {
    return new LoopEvent(
        kind,
        loop,
        Optional.ofNullable(runner),
        Instant.now(),
        System.nanoTime(),
        OptionalInt.empty(),
        detail);
  }

  static LoopEvent exited(int loop, RunnerId runner, Optional<Integer> status) {
    return new LoopEvent(
        Kind.VM_EXITED,
        loop,
        Optional.of(runner),
        Instant.now(),
        System.nanoTime(),
        status.map(OptionalInt::of).orElse(OptionalInt.empty()),
        status.map(s -> "exit status " + s).orElse("exit status unknown"));
  }
}
