package dev.microrunner.github;

import java.time.Instant;
import java.util.Optional;

/** GitHub's rate limit still held after the retries, or would need a wait beyond the policy. */
public class GitHubRateLimitException extends GitHubException {

  private final Instant retryAt;

  public GitHubRateLimitException(String message, int status, Instant retryAt) {
    super(message, status, true);
    this.retryAt = retryAt;
  }

  /** When GitHub said the limit lifts, if it said. */
  public Optional<Instant> retryAt() {
    return Optional.ofNullable(retryAt);
  }
}
