package dev.microrunner.github;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@code workflow_job} webhook event, the fields that say what a pool must know: which job, of
 * which repository, needs which labels, and where it is.
 *
 * @param action {@code queued}, {@code in_progress}, {@code completed} or {@code waiting}
 * @param jobId the workflow job's id, the same in every event about it and in the REST API
 * @param runId its workflow run
 * @param repository the repository's {@code full_name} ({@code owner/name})
 * @param organization the organization's login when the repository belongs to one
 * @param labels the job's {@code runs-on} labels, as written in the workflow
 * @param runnerId the runner that took it; empty while it is queued
 * @param runnerName the runner that took it; empty while it is queued
 */
public record WorkflowJobEvent(
    String action,
    long jobId,
    long runId,
    String repository,
    Optional<String> organization,
    List<String> labels,
    Optional<Long> runnerId,
    Optional<String> runnerName) {

  public WorkflowJobEvent {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(repository, "repository");
    Objects.requireNonNull(organization, "organization");
    labels = List.copyOf(labels);
    Objects.requireNonNull(runnerId, "runnerId");
    Objects.requireNonNull(runnerName, "runnerName");
  }

  /** The job as queued demand. */
  public QueuedJob job() {
    return new QueuedJob(jobId, runId, repository, labels);
  }
}
