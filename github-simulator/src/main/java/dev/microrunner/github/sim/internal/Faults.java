package dev.microrunner.github.sim.internal;

import dev.microrunner.github.sim.Fault;
import java.time.Duration;
import java.util.Optional;

/**
 * The faults injected into the REST API and not yet used up: how many requests each kind still
 * hits, with its status and duration, and the latency. Guarded by the {@link SimStore}'s monitor.
 */
final class Faults {

  private int primaryRateLimited;
  private int primaryStatus = 403;
  private Duration primaryResetAfter = Duration.ZERO;
  private int secondaryRateLimited;
  private int secondaryStatus = 403;
  private Duration secondaryRetryAfter = Duration.ZERO;
  private int serverErrors;
  private int serverErrorStatus = 500;
  private Duration latency = Duration.ZERO;

  /** Replaces what was pending of the same kind; latency stays until cleared. */
  void inject(Fault fault) {
    switch (fault.kind()) {
      case PRIMARY_RATE_LIMIT -> {
        primaryRateLimited = fault.requests();
        primaryStatus = fault.status();
        primaryResetAfter = fault.duration();
      }
      case SECONDARY_RATE_LIMIT -> {
        secondaryRateLimited = fault.requests();
        secondaryStatus = fault.status();
        secondaryRetryAfter = fault.duration();
      }
      case SERVER_ERROR -> {
        serverErrors = fault.requests();
        serverErrorStatus = fault.status();
      }
      case LATENCY -> latency = fault.duration();
    }
  }

  /** Removes every pending fault and the latency. */
  void clear() {
    primaryRateLimited = 0;
    secondaryRateLimited = 0;
    serverErrors = 0;
    latency = Duration.ZERO;
  }

  Duration latency() {
    return latency;
  }

  /**
   * The fault the next request gets (for one request), counted off: a primary rate limit first,
   * then a secondary one, then a server error. Empty when none is pending.
   */
  Optional<Fault> take() {
    if (primaryRateLimited > 0) {
      primaryRateLimited--;
      return Optional.of(
          new Fault(Fault.Kind.PRIMARY_RATE_LIMIT, 1, primaryStatus, primaryResetAfter));
    }
    if (secondaryRateLimited > 0) {
      secondaryRateLimited--;
      return Optional.of(
          new Fault(Fault.Kind.SECONDARY_RATE_LIMIT, 1, secondaryStatus, secondaryRetryAfter));
    }
    if (serverErrors > 0) {
      serverErrors--;
      return Optional.of(Fault.serverError(1, serverErrorStatus));
    }
    return Optional.empty();
  }
}
