package dev.microrunner.github;

import java.util.List;
import java.util.Objects;

/**
 * A workflow job that waits for a runner.
 *
 * @param repository the repository's {@code owner/name}
 * @param labels its {@code runs-on} labels: a runner can take it when it has every one of them
 *     (case-insensitive)
 */
public record QueuedJob(long jobId, long runId, String repository, List<String> labels) {
  public QueuedJob {
    Objects.requireNonNull(repository, "repository");
    labels = List.copyOf(labels);
  }
}
