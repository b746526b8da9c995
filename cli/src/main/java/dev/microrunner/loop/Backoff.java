package dev.microrunner.loop;

import java.time.Duration;
import java.util.Objects;

/**
 * Exponential back-off after a failed iteration: {@code initial}, doubling up to {@code max}, reset
 * once a runner registers.
 */
public record Backoff(Duration initial, Duration max) {

  public static final Backoff DEFAULT = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(2));

  public Backoff {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("back-off initial delay must be positive");
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("back-off maximum must not be below the initial delay");
    }
  }

  /**
   * The delay before attempt {@code failures + 1}, given {@code failures ≥ 1} failures in a row.
   */
  public Duration delay(int failures) {
    Duration delay = initial;
    for (int i = 1; i < failures && delay.compareTo(max) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(max) > 0 ? max : delay;
  }
}
