package dev.microrunner.github.sim;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link GitHubSimulator}.
 *
 * @param port TCP port on 127.0.0.1; 0 picks a free one
 * @param clock time source for token expiry and job timestamps
 * @param tokenLifetime lifetime of registration, remove and installation tokens (GitHub: 1 hour)
 */
public record SimulatorOptions(int port, Clock clock, Duration tokenLifetime) {

  public SimulatorOptions {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("simulator port " + port + " is not in 0..65535");
    }
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(tokenLifetime, "tokenLifetime");
  }

  /** A free port, the system clock, tokens valid for an hour. */
  public static SimulatorOptions defaults() {
    return new SimulatorOptions(0, Clock.systemUTC(), Duration.ofHours(1));
  }

  public SimulatorOptions withPort(int newPort) {
    return new SimulatorOptions(newPort, clock, tokenLifetime);
  }

  public SimulatorOptions withClock(Clock newClock) {
    return new SimulatorOptions(port, newClock, tokenLifetime);
  }
}
