package dev.microrunner.loop.internal;

import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.handshake.RunnerStatus.Ending;
import dev.microrunner.handshake.RunnerStatus.Outcome;
import dev.microrunner.handshake.RunnerStatus.State;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the agent learns from actions/runner's listener: its terminal lines (v2.336.0: {@code
 * Runner.cs} prints {@code Current runner version: 'V'} and {@code TIME: Listening for Jobs},
 * {@code JobDispatcher.cs} {@code TIME: Running job: NAME} and {@code TIME: Job NAME completed with
 * result: R}, {@code SelfUpdater.cs} {@code Runner update in progress}), and its exit status
 * ({@code Constants.Runner.ReturnCode}). Not thread-safe: fed by the one thread that reads the
 * output.
 */
public final class ListenerOutput {

  /** {@code Constants.Runner.ReturnCode}. */
  public static final int TERMINATED_ERROR = 1;

  public static final int RETRYABLE_ERROR = 2;
  public static final int RUNNER_UPDATING = 3;
  public static final int RUN_ONCE_RUNNER_UPDATING = 4;
  public static final int SESSION_CONFLICT = 5;
  public static final int RUNNER_VERSION_DEPRECATED = 7;

  /** Upstream writes terminal times as .NET's {@code u} format. */
  private static final String TIME = "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z: ";

  private static final Pattern VERSION = Pattern.compile("^Current runner version: '([^']+)'$");
  private static final Pattern LISTENING = Pattern.compile("^" + TIME + "Listening for Jobs$");
  private static final Pattern RUNNING = Pattern.compile("^" + TIME + "Running job: (.+)$");
  private static final Pattern COMPLETED =
      Pattern.compile("^" + TIME + "Job (.+) completed with result: (\\w+)$");
  private static final String UPDATING = "Runner update in progress";

  /**
   * GitHub's refusal as the listener prints it ({@code Program.cs}: {@code An error occurred:}).
   */
  private static final Pattern DEPRECATED =
      Pattern.compile("Runner version v(\\S+) is deprecated and cannot receive messages");

  private RunnerStatus status = RunnerStatus.starting();
  private boolean listening;
  private boolean updateAnnounced;
  private boolean versionRefused;

  /** The status so far. */
  public RunnerStatus status() {
    return status;
  }

  /** Whether the listener said it listens for jobs (or took one, which it does only then). */
  public boolean listening() {
    return listening;
  }

  /**
   * Reads one line of the listener's output.
   *
   * @return whether the status changed
   */
  public boolean accept(String line) {
    RunnerStatus before = status;
    Matcher version = VERSION.matcher(line);
    Matcher running = RUNNING.matcher(line);
    Matcher completed = COMPLETED.matcher(line);
    Matcher deprecated = DEPRECATED.matcher(line);
    if (version.matches()) {
      if (RunnerStatus.isVersion(version.group(1))) {
        status = status.withRunnerVersion(version.group(1));
      }
    } else if (LISTENING.matcher(line).matches()) {
      listening = true;
      if (status.state() == State.STARTING) {
        status = status.withState(State.IDLE);
      }
    } else if (running.matches()) {
      listening = true;
      status = status.withJobStarted(running.group(1));
    } else if (completed.matches()) {
      if (RunnerStatus.isResult(completed.group(2))) {
        status = status.withJobResult(completed.group(1), completed.group(2));
      }
    } else if (line.contains(UPDATING)) {
      updateAnnounced = true;
    } else if (deprecated.find()) {
      versionRefused = true;
      if (status.runnerVersion().isEmpty() && RunnerStatus.isVersion(deprecated.group(1))) {
        status = status.withRunnerVersion(deprecated.group(1));
      }
    }
    return !status.equals(before);
  }

  /** The runner was asked to stop: it cancels its job or goes offline. */
  public RunnerStatus stopping() {
    if (status.state() != State.ENDED) {
      status = status.withState(State.STOPPING);
    }
    return status;
  }

  /**
   * The listener ended with {@code exitStatus}.
   *
   * @param stopRequested whether the host or a signal asked the runner to stop
   */
  public RunnerStatus ended(int exitStatus, boolean stopRequested) {
    status = status.ended(ending(OptionalInt.of(exitStatus), stopRequested));
    return status;
  }

  /** The runner ended before its listener ran (registration failed), or without one. */
  public RunnerStatus endedWithout(boolean stopRequested, String why) {
    Outcome outcome = stopRequested ? Outcome.STOPPED : Outcome.NO_JOB;
    status = status.ended(new Ending(outcome, OptionalInt.empty(), why));
    return status;
  }

  private Ending ending(OptionalInt exit, boolean stopRequested) {
    int code = exit.orElse(-1);
    if (code == RUNNER_VERSION_DEPRECATED || versionRefused) {
      return new Ending(
          Outcome.VERSION_REFUSED,
          exit,
          "GitHub refused actions/runner " + status.runnerVersion().orElse("(version unknown)"));
    }
    if (code == RUNNER_UPDATING || code == RUN_ONCE_RUNNER_UPDATING || updateAnnounced) {
      return new Ending(
          Outcome.UPDATE_REQUESTED,
          exit,
          "GitHub asked actions/runner "
              + status.runnerVersion().orElse("(version unknown)")
              + " to update itself");
    }
    if (stopRequested) {
      return new Ending(Outcome.STOPPED, exit, "stopped on request");
    }
    if (status.jobsStarted() > 0) {
      return new Ending(Outcome.JOB_DONE, exit, "the job ended");
    }
    return new Ending(Outcome.NO_JOB, exit, "the listener ended without a job: " + meaning(code));
  }

  /** What upstream's listener means by an exit status, for people. */
  static String meaning(int code) {
    return switch (code) {
      case 0 -> "status 0";
      case TERMINATED_ERROR ->
          "status 1 (terminated: the registration is gone, or the configuration was refused)";
      case RETRYABLE_ERROR -> "status 2 (a retryable error, e.g. GitHub unreachable)";
      case SESSION_CONFLICT -> "status 5 (another listener holds this runner's session)";
      default -> "status " + code;
    };
  }
}
