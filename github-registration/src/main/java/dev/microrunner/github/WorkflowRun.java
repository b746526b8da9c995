package dev.microrunner.github;

import java.util.Objects;
import java.util.Optional;

/**
 * A workflow run of a repository, as {@code GET /repos/{owner}/{repo}/actions/runs} lists it: the
 * fields microrunner reads.
 *
 * @param status {@code queued}, {@code in_progress}, {@code completed}, {@code waiting}, {@code
 *     requested} or {@code pending}
 * @param conclusion set once the run completed ({@code success}, {@code failure}, …)
 */
public record WorkflowRun(long id, String name, String status, Optional<String> conclusion) {
  public WorkflowRun {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(conclusion, "conclusion");
  }
}
