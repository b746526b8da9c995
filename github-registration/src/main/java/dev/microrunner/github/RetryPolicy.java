package dev.microrunner.github;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how long the client retries.
 *
 * @param maxAttempts tries per call in total, including the first (5xx, network errors and rate
 *     limits share the budget)
 * @param initialBackoff first wait after a 5xx or network error; doubled per try, with jitter
 * @param maxBackoff cap of the back-off after 5xx and network errors
 * @param secondaryRateLimitWait wait after a secondary rate limit without {@code retry-after}
 *     (GitHub asks for at least a minute); doubled on each further one
 * @param maxRateLimitWait the longest single rate-limit wait; beyond it the call fails with {@link
 *     GitHubRateLimitException} instead of blocking
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration secondaryRateLimitWait,
    Duration maxRateLimitWait) {

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
    }
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(secondaryRateLimitWait, "secondaryRateLimitWait");
    Objects.requireNonNull(maxRateLimitWait, "maxRateLimitWait");
  }

  /** 5 tries, 1 s doubling to 60 s, 60 s after an unexplained secondary limit, at most 1 h. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(
        5,
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        Duration.ofSeconds(60),
        Duration.ofHours(1));
  }

  public RetryPolicy withMaxAttempts(int attempts) {
    return new RetryPolicy(
        attempts, initialBackoff, maxBackoff, secondaryRateLimitWait, maxRateLimitWait);
  }
}
