package dev.microrunner.github;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A job of a workflow run, as {@code GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs} lists
 * it: the fields microrunner reads.
 *
 * @param status {@code queued}, {@code in_progress}, {@code completed}, {@code waiting}, {@code
 *     requested} or {@code pending}
 * @param labels the job's {@code runs-on} labels, as written in the workflow
 * @param runnerId the runner that took it; empty while it is queued
 * @param runnerName the runner that took it; empty while it is queued
 */
public record WorkflowJob(
    long id,
    long runId,
    String name,
    String status,
    List<String> labels,
    Optional<Long> runnerId,
    Optional<String> runnerName) {
  public WorkflowJob {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(status, "status");
    labels = List.copyOf(labels);
    Objects.requireNonNull(runnerId, "runnerId");
    Objects.requireNonNull(runnerName, "runnerName");
  }

  /** Whether it waits for a runner: {@code queued}. */
  public boolean queued() {
    return status.equals("queued");
  }
}
