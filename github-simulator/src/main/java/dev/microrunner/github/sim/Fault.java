package dev.microrunner.github.sim;

import java.time.Duration;
import java.util.Objects;

/**
 * A fault the simulator injects into its GitHub API responses (never into {@code /_sim/}).
 *
 * @param kind what goes wrong
 * @param requests how many API requests it hits (ignored for latency, which stays until cleared)
 * @param status the HTTP status: 5xx for server errors, 403 (GitHub's usual) or 429 for rate limits
 * @param duration primary limit: time until {@code x-ratelimit-reset}; secondary limit: {@code
 *     retry-after} (zero: no header); latency: the delay added to every API response
 */
public record Fault(Kind kind, int requests, int status, Duration duration) {

  /** The kinds of faults. */
  public enum Kind {
    PRIMARY_RATE_LIMIT,
    SECONDARY_RATE_LIMIT,
    SERVER_ERROR,
    LATENCY
  }

  public Fault {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(duration, "duration");
    if (requests < 0) {
      throw new IllegalArgumentException("fault request count must be >= 0, got " + requests);
    }
    if (kind == Kind.SERVER_ERROR && (status < 500 || status > 599)) {
      throw new IllegalArgumentException("server error status must be 5xx, got " + status);
    }
    boolean rateLimit = kind == Kind.PRIMARY_RATE_LIMIT || kind == Kind.SECONDARY_RATE_LIMIT;
    if (rateLimit && status != 403 && status != 429) {
      throw new IllegalArgumentException("rate limit status must be 403 or 429, got " + status);
    }
    if (duration.isNegative()) {
      throw new IllegalArgumentException("fault duration must not be negative: " + duration);
    }
  }

  /** 403 with {@code x-ratelimit-remaining: 0} and a reset {@code resetAfter} from now. */
  public static Fault primaryRateLimit(int requests, Duration resetAfter) {
    return new Fault(Kind.PRIMARY_RATE_LIMIT, requests, 403, resetAfter);
  }

  /** 403 "secondary rate limit", with {@code retry-after} unless {@code retryAfter} is zero. */
  public static Fault secondaryRateLimit(int requests, Duration retryAfter) {
    return new Fault(Kind.SECONDARY_RATE_LIMIT, requests, 403, retryAfter);
  }

  public static Fault serverError(int requests, int status) {
    return new Fault(Kind.SERVER_ERROR, requests, status, Duration.ZERO);
  }

  /** Delays every GitHub API response; {@code Duration.ZERO} clears it. */
  public static Fault latency(Duration delay) {
    return new Fault(Kind.LATENCY, 0, 0, delay);
  }
}
