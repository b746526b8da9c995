package dev.microrunner.loop;

import java.time.Duration;
import java.util.Objects;

/**
 * How a demand-driven pool sizes itself: it keeps {@code minIdle} runners registered and waiting,
 * starts more while jobs its runners can take are queued (up to {@code max} VMs), and stops a
 * runner beyond {@code minIdle} once it has waited {@code idleTimeout} without a job.
 *
 * @param minIdle runners kept registered and idle, 0 or more
 * @param max VMs at most, at least 1 and at least {@code minIdle}
 * @param idleTimeout how long a runner beyond {@code minIdle} may wait for a job
 */
public record Scaling(int minIdle, int max, Duration idleTimeout) {

  /** The idle timeout when a pool gives none: long enough to catch the next job of a workflow. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

  public Scaling {
    if (minIdle < 0) {
      throw new InvalidSettingException("min-idle", "must be 0 or more, not " + minIdle);
    }
    if (max < 1) {
      throw new InvalidSettingException("max", "must be at least 1, not " + max);
    }
    if (max < minIdle) {
      throw new InvalidSettingException(
          "max", "must be at least min-idle (" + minIdle + "), not " + max);
    }
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new InvalidSettingException(
          "idle-timeout", "must be positive, not " + idleTimeout.toSeconds() + " s");
    }
  }

  /**
   * How many loops the pool wants: its busy runners, one per queued job it can take and {@code
   * minIdle} spare ones, never more than {@code max}.
   */
  public int target(int busy, int queued) {
    long wanted = (long) busy + queued + minIdle;
    return (int) Math.min(max, wanted);
  }
}
