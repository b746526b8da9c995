package dev.microrunner.github.sim;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A workflow job waiting for a runner: a runner takes it when it has every one of its labels
 * (case-insensitive), as with {@code runs-on}. Each job is the one job of a workflow run of its
 * repository, which the workflow run endpoints and the {@code workflow_job} webhooks show.
 *
 * @param duration how long the job runs when nothing stops it
 * @param cancelTime how long the runner needs to cancel it once asked to stop (upstream's worker
 *     interrupts the step, waits for it and runs the post-job steps before it reports)
 * @param repository the repository ({@code owner/name}) whose workflow it belongs to; empty: the
 *     first repository the simulator was told of ({@code demo/hello} when there is none)
 */
public record SimJob(
    String name,
    List<String> labels,
    Duration duration,
    Duration cancelTime,
    Optional<String> repository) {

  /** What a job takes to cancel when nothing else is said. */
  public static final Duration DEFAULT_CANCEL_TIME = Duration.ofMillis(500);

  public SimJob(String name, List<String> labels, Duration duration) {
    this(name, labels, duration, DEFAULT_CANCEL_TIME);
  }

  public SimJob(String name, List<String> labels, Duration duration, Duration cancelTime) {
    this(name, labels, duration, cancelTime, Optional.empty());
  }

  public SimJob {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("job name must not be empty");
    }
    labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("job duration must not be negative: " + duration);
    }
    Objects.requireNonNull(cancelTime, "cancelTime");
    if (cancelTime.isNegative()) {
      throw new IllegalArgumentException("job cancel time must not be negative: " + cancelTime);
    }
    Objects.requireNonNull(repository, "repository");
  }

  /** This job in the repository {@code owner/name}, which the simulator must know. */
  public SimJob withRepository(String fullName) {
    return new SimJob(name, labels, duration, cancelTime, Optional.of(fullName));
  }
}
