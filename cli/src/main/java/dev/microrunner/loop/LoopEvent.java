package dev.microrunner.loop;

import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Something that happened in a runner loop, stamped with wall-clock time and a monotonic reading
 * (the loop's {@link LoopTime}) so that listeners can measure gaps precisely. Each kind is a record
 * of its own; a listener switches on the type. Nothing in an event is a secret.
 */
public sealed interface LoopEvent {

  /** The loop number. */
  int loop();

  /** When it happened (wall clock). */
  Instant time();

  /** When it happened, in nanoseconds of the loop's monotonic clock. */
  long nanoTime();

  /** An event about one runner, in the order they happen for it. */
  sealed interface RunnerEvent extends LoopEvent {
    RunnerId runner();
  }

  /** The loop thread started. */
  record Started(int loop, Instant time, long nanoTime) implements LoopEvent {
    public Started {
      Objects.requireNonNull(time, "time");
    }
  }

  /** A runner id exists and its registration (JIT config or token) was obtained at GitHub. */
  record RunnerCreated(int loop, RunnerId runner, String name, Instant time, long nanoTime)
      implements RunnerEvent {
    public RunnerCreated {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(time, "time");
    }
  }

  /** The runner's VM started. */
  record VmStarted(int loop, RunnerId runner, String vmName, Instant time, long nanoTime)
      implements RunnerEvent {
    public VmStarted {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(vmName, "vmName");
      Objects.requireNonNull(time, "time");
    }
  }

  /** The agent published {@code <id>.tkn}: the runner is registered. */
  record Registered(int loop, RunnerId runner, String name, Instant time, long nanoTime)
      implements RunnerEvent {
    public Registered {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * The runner's state changed, as its agent reported it in {@code <id>.sta} or as the host made it
   * (a started VM is {@code STARTING}, a runner asked to terminate {@code STOPPING}). What the
   * agent reports is untrusted: a job with root in its VM can forge it.
   *
   * @param job the job it runs or ran, its name printable and with every known secret masked
   */
  record RunnerStateChanged(
      int loop,
      RunnerId runner,
      RunnerStatus.State state,
      Optional<RunnerStatus.Job> job,
      Instant time,
      long nanoTime)
      implements RunnerEvent {
    public RunnerStateChanged {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(job, "job");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * The runner's VM ended.
   *
   * @param exitStatus its exit status, when the runtime knows it
   */
  record VmExited(int loop, RunnerId runner, OptionalInt exitStatus, Instant time, long nanoTime)
      implements RunnerEvent {
    public VmExited {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(exitStatus, "exitStatus");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * The runner's registration is gone from GitHub.
   *
   * @param byHost true when the host removed it, false when GitHub no longer had it (the runner
   *     removed itself after its job, as ephemeral runners do)
   */
  record RegistrationRemoved(int loop, RunnerId runner, boolean byHost, Instant time, long nanoTime)
      implements RunnerEvent {
    public RegistrationRemoved {
      Objects.requireNonNull(runner, "runner");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * Something failed; the loop waits {@code delay} before it tries again.
   *
   * @param reason what failed, printable and with every known secret masked
   * @param failuresInARow how many iterations failed since the last registered runner
   */
  record BackingOff(
      int loop, Duration delay, String reason, int failuresInARow, Instant time, long nanoTime)
      implements LoopEvent {
    public BackingOff {
      Objects.requireNonNull(delay, "delay");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(time, "time");
    }
  }

  /**
   * The loop ended; also what {@link RunnerLoop#run()} returns.
   *
   * @param runners how many runners served during the loop: took a job, as their agents reported,
   *     or registered and ended where no agent reports (another entrypoint)
   * @param failure what ended it, for {@link EndReason#GITHUB_REFUSED}, {@link
   *     EndReason#RUNNER_VERSION} and {@link EndReason#FAILED}
   */
  record Ended(
      int loop,
      EndReason reason,
      int runners,
      Optional<Exception> failure,
      Instant time,
      long nanoTime)
      implements LoopEvent {
    public Ended {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(time, "time");
    }
  }

  /** Why a loop ended. */
  enum EndReason {
    /** It created the runners it was asked for (the repeat count). */
    COMPLETED,
    /** A VM's agent wrote the secret into {@code .brk}. */
    BREAK,
    /** Its lifetime ran out. */
    LIFETIME,
    /** It was asked to stop (signal, orchestrator shutdown). */
    STOPPED,
    /**
     * GitHub refused the credentials, the scope or a request ({@link
     * dev.microrunner.github.GitHubException#isRefusal()}).
     */
    GITHUB_REFUSED,
    /**
     * GitHub refused the image's actions/runner version or asked it to update itself: the image
     * must be rebuilt.
     */
    RUNNER_VERSION,
    /** Something else made it give up. */
    FAILED
  }
}
