package dev.microrunner.github;

import java.time.Instant;
import java.util.Objects;

/**
 * A published release of actions/runner ({@code GET /repos/actions/runner/releases}): GitHub
 * refuses a runner that was not updated within 30 days after a newer version was published.
 *
 * @param version the runner version, the release's tag without its {@code v} (e.g. {@code 2.336.0})
 * @param publishedAt when it was published
 * @param prerelease whether it is marked as a prerelease
 */
public record PublishedRunnerRelease(String version, Instant publishedAt, boolean prerelease) {
  public PublishedRunnerRelease {
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(publishedAt, "publishedAt");
  }
}
