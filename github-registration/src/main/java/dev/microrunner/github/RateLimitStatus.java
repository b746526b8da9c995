package dev.microrunner.github;

import java.time.Instant;
import java.util.Objects;

/**
 * GitHub's primary rate limit as its latest answer showed it ({@code x-ratelimit-limit}, {@code
 * -remaining}, {@code -reset} and {@code -resource}).
 *
 * @param reset when the window ends and {@code remaining} is back to {@code limit}
 * @param resource the limit's resource ({@code core} for the runner and workflow endpoints)
 */
public record RateLimitStatus(long limit, long remaining, Instant reset, String resource) {
  public RateLimitStatus {
    Objects.requireNonNull(reset, "reset");
    Objects.requireNonNull(resource, "resource");
  }

  /** Whether at most {@code fraction} of the window's requests are left (0.1: a tenth). */
  public boolean below(double fraction) {
    return remaining <= limit * fraction;
  }
}
