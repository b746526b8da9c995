package dev.microrunner.github.sim;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of the simulator: its runners and jobs. {@code GET /_sim/state} serves the same in
 * JSON (snake_case field names).
 */
public record SimState(
    List<RunnerState> runners,
    List<JobState> jobs,
    int queuedJobs,
    int runningJobs,
    int finishedJobs,
    int removedRunners,
    long apiRequests) {

  public SimState {
    runners = List.copyOf(runners);
    jobs = List.copyOf(jobs);
  }

  /** A registered runner; {@code status} is {@code online} or {@code offline}. */
  public record RunnerState(
      long id,
      String name,
      String scope,
      String status,
      boolean busy,
      List<String> labels,
      boolean ephemeral) {
    public RunnerState {
      labels = List.copyOf(labels);
    }
  }

  /**
   * A job: {@code status} is {@code queued}, {@code in_progress} or {@code completed}; {@code
   * result} is what the runner reported ({@code Succeeded}, {@code Failed}, {@code Canceled}).
   *
   * <p>As at GitHub, only the runner ends a job: a runner killed while it runs one leaves it {@code
   * in_progress}. {@code cancelStartedAt} is when the runner began to cancel it, so a job with that
   * time and no result is one whose runner was killed while cancelling.
   */
  public record JobState(
      long id,
      String name,
      List<String> labels,
      String status,
      Optional<Long> runnerId,
      Optional<String> runnerName,
      Instant queuedAt,
      Optional<Instant> startedAt,
      Optional<Instant> finishedAt,
      Optional<String> result,
      Optional<Instant> cancelStartedAt) {
    public JobState {
      labels = List.copyOf(labels);
    }
  }

  /** The runner called {@code name}, if registered. */
  public Optional<RunnerState> runner(String name) {
    return runners.stream().filter(runner -> runner.name().equals(name)).findFirst();
  }
}
