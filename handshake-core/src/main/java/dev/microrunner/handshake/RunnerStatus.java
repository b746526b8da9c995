package dev.microrunner.handshake;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * What the agent in a VM reports about its runner in {@code <id>.sta}: its state, the job it took,
 * and once the runner ended, how. The file is written in the {@link EnvFile} format, by the agent
 * only, and rewritten on every change.
 *
 * <p>A job has root in its VM (the images give the runner user sudo), so anything in this file may
 * be forged. The host uses it only for the behaviour of the loop the VM belongs to, where the worst
 * a forgery can do is end that loop or slow it down.
 *
 * @param jobsStarted how many jobs the runner started (an ephemeral runner takes at most one)
 * @param runnerVersion the actions/runner version the listener announced
 * @param ending present once the runner ended ({@code state == ENDED})
 */
public record RunnerStatus(
    State state,
    Optional<Job> job,
    int jobsStarted,
    Optional<String> runnerVersion,
    Optional<Ending> ending) {

  /** Longest job name kept; GitHub's display names are far shorter. */
  public static final int MAX_JOB_NAME = 256;

  /** Longest ending detail kept. */
  public static final int MAX_DETAIL = 512;

  private static final Pattern VERSION = Pattern.compile("[0-9A-Za-z][0-9A-Za-z.+-]{0,31}");
  private static final Pattern RESULT = Pattern.compile("[A-Za-z]{1,32}");
  private static final Pattern COUNT = Pattern.compile("[0-9]{1,6}");
  private static final Pattern EXIT_STATUS = Pattern.compile("-?[0-9]{1,3}");

  private static final String STATE = "STATE";
  private static final String JOB = "JOB";
  private static final String JOB_RESULT = "JOB_RESULT";
  private static final String JOBS_STARTED = "JOBS_STARTED";
  private static final String RUNNER_VERSION = "RUNNER_VERSION";
  private static final String OUTCOME = "OUTCOME";
  private static final String LISTENER_STATUS = "LISTENER_STATUS";
  private static final String DETAIL = "DETAIL";

  /** Where the runner is in its life. */
  public enum State {
    /** The agent is registering the runner or starting its listener. */
    STARTING,
    /** The listener is connected and waits for a job. */
    IDLE,
    /** The runner runs a job. */
    BUSY,
    /** The runner was asked to stop and is cancelling its job or going offline. */
    STOPPING,
    /** The runner ended; {@link RunnerStatus#ending()} says how. */
    ENDED
  }

  /** How a runner ended. */
  public enum Outcome {
    /** It ran its job to the end. */
    JOB_DONE,
    /** It was asked to stop (by the host or a signal) and stopped. */
    STOPPED,
    /** It ended without a job and without being asked to. */
    NO_JOB,
    /** GitHub refused its actions/runner version. */
    VERSION_REFUSED,
    /** GitHub asked it to update itself, which an ephemeral VM must not do. */
    UPDATE_REQUESTED
  }

  /**
   * A job the runner took.
   *
   * @param result the result the runner reported (e.g. {@code Succeeded}, {@code Canceled}), once
   *     the job completed
   */
  public record Job(String name, Optional<String> result) {
    public Job {
      name = bounded(Objects.requireNonNull(name, "name"), MAX_JOB_NAME);
      Objects.requireNonNull(result, "result");
      result.ifPresent(r -> require(RESULT, r, "job result"));
    }
  }

  /**
   * How the runner ended.
   *
   * @param listenerStatus the listener's exit status, if it ran
   * @param detail one line for people, e.g. why the listener ended
   */
  public record Ending(Outcome outcome, OptionalInt listenerStatus, String detail) {
    public Ending {
      Objects.requireNonNull(outcome, "outcome");
      Objects.requireNonNull(listenerStatus, "listenerStatus");
      detail = bounded(Objects.requireNonNull(detail, "detail"), MAX_DETAIL);
    }
  }

  public RunnerStatus {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(runnerVersion, "runnerVersion");
    Objects.requireNonNull(ending, "ending");
    if (jobsStarted < 0 || jobsStarted > 999_999) {
      throw new IllegalArgumentException("jobs started must be in 0..999999, got " + jobsStarted);
    }
    runnerVersion.ifPresent(v -> require(VERSION, v, "runner version"));
    if (ending.isPresent() != (state == State.ENDED)) {
      throw new IllegalArgumentException("an ending goes with the state ENDED, and only with it");
    }
  }

  /** The status of a runner whose agent just started. */
  public static RunnerStatus starting() {
    return new RunnerStatus(
        State.STARTING, Optional.empty(), 0, Optional.empty(), Optional.empty());
  }

  public RunnerStatus withState(State newState) {
    return new RunnerStatus(newState, job, jobsStarted, runnerVersion, Optional.empty());
  }

  /** A job started: the runner is busy with it. */
  public RunnerStatus withJobStarted(String name) {
    return new RunnerStatus(
        State.BUSY,
        Optional.of(new Job(name, Optional.empty())),
        Math.min(jobsStarted + 1, 999_999),
        runnerVersion,
        Optional.empty());
  }

  /** The current job completed with {@code result}; the state stays as it is. */
  public RunnerStatus withJobResult(String name, String result) {
    return new RunnerStatus(
        state == State.ENDED ? State.STOPPING : state,
        Optional.of(new Job(name, Optional.of(result))),
        Math.max(jobsStarted, 1),
        runnerVersion,
        Optional.empty());
  }

  public RunnerStatus withRunnerVersion(String version) {
    return new RunnerStatus(state, job, jobsStarted, Optional.of(version), ending);
  }

  public RunnerStatus ended(Ending how) {
    return new RunnerStatus(State.ENDED, job, jobsStarted, runnerVersion, Optional.of(how));
  }

  /** Whether {@code version} would be accepted as {@link #runnerVersion()}. */
  public static boolean isVersion(String version) {
    return version != null && VERSION.matcher(version).matches();
  }

  /** Whether {@code result} would be accepted as a job's result. */
  public static boolean isResult(String result) {
    return result != null && RESULT.matcher(result).matches();
  }

  /** The file's entries, for {@link EnvFile#render}. */
  Map<String, String> toEntries() {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put(STATE, state.name().toLowerCase(Locale.ROOT));
    job.ifPresent(
        j -> {
          entries.put(JOB, j.name());
          j.result().ifPresent(r -> entries.put(JOB_RESULT, r));
        });
    entries.put(JOBS_STARTED, Integer.toString(jobsStarted));
    runnerVersion.ifPresent(v -> entries.put(RUNNER_VERSION, v));
    ending.ifPresent(
        e -> {
          entries.put(OUTCOME, e.outcome().name().toLowerCase(Locale.ROOT));
          e.listenerStatus().ifPresent(s -> entries.put(LISTENER_STATUS, Integer.toString(s)));
          entries.put(DETAIL, e.detail());
        });
    return entries;
  }

  /**
   * Reads the entries of a status file. Unknown keys are ignored (a newer agent may add some); a
   * known key with an impossible value rejects the whole file.
   *
   * @throws IllegalArgumentException naming the key whose value is wrong, never quoting the value
   */
  static RunnerStatus fromEntries(Map<String, String> entries) {
    State state = enumValue(State.class, entries.get(STATE), STATE);
    Optional<Job> job = Optional.empty();
    if (entries.containsKey(JOB)) {
      String result = entries.get(JOB_RESULT);
      if (result != null) {
        require(RESULT, result, JOB_RESULT);
      }
      job = Optional.of(new Job(entries.get(JOB), Optional.ofNullable(result)));
    }
    String started = entries.getOrDefault(JOBS_STARTED, "0");
    require(COUNT, started, JOBS_STARTED);
    String version = entries.get(RUNNER_VERSION);
    if (version != null) {
      require(VERSION, version, RUNNER_VERSION);
    }
    Optional<Ending> ending = Optional.empty();
    if (state == State.ENDED) {
      Outcome outcome = enumValue(Outcome.class, entries.get(OUTCOME), OUTCOME);
      OptionalInt listenerStatus = OptionalInt.empty();
      String status = entries.get(LISTENER_STATUS);
      if (status != null) {
        require(EXIT_STATUS, status, LISTENER_STATUS);
        listenerStatus = OptionalInt.of(Integer.parseInt(status));
      }
      ending = Optional.of(new Ending(outcome, listenerStatus, entries.getOrDefault(DETAIL, "")));
    }
    return new RunnerStatus(
        state, job, Integer.parseInt(started), Optional.ofNullable(version), ending);
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String key) {
    if (value == null) {
      throw new IllegalArgumentException(key + " is missing");
    }
    for (E constant : type.getEnumConstants()) {
      if (constant.name().toLowerCase(Locale.ROOT).equals(value)) {
        return constant;
      }
    }
    throw new IllegalArgumentException(key + " is not one of the known values");
  }

  private static void require(Pattern pattern, String value, String what) {
    if (!pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " has an impossible value");
    }
  }

  /** Cuts {@code text} to {@code max} characters and drops line breaks, which end a log line. */
  private static String bounded(String text, int max) {
    String oneLine = text.replace('\n', ' ').replace('\r', ' ');
    if (oneLine.length() <= max) {
      return oneLine;
    }
    int end = max;
    if (Character.isHighSurrogate(oneLine.charAt(end - 1))) {
      end--;
    }
    return oneLine.substring(0, end);
  }
}
