package dev.microrunner.github.sim;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Options of {@link GitHubSimulator}.
 *
 * @param port TCP port on 127.0.0.1; 0 picks a free one
 * @param clock time source for token expiry, job timestamps and rate-limit windows
 * @param tokenLifetime lifetime of registration, remove and installation tokens (GitHub: 1 hour)
 * @param rateLimit REST requests per hour of each token or GitHub App (GitHub: 5,000 for a personal
 *     access token, at least that for an installation)
 * @param unauthenticatedRateLimit REST requests per hour of each client address without valid
 *     credentials (GitHub: 60)
 * @param webhooks webhooks added (and pinged) at start, as {@link GitHubSimulator#addWebhook} adds
 *     them
 */
public record SimulatorOptions(
    int port,
    Clock clock,
    Duration tokenLifetime,
    int rateLimit,
    int unauthenticatedRateLimit,
    List<SimWebhook> webhooks) {

  public SimulatorOptions {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("simulator port " + port + " is not in 0..65535");
    }
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(tokenLifetime, "tokenLifetime");
    if (rateLimit < 1 || unauthenticatedRateLimit < 1) {
      throw new IllegalArgumentException(
          "rate limits must be at least 1 request per hour, got "
              + rateLimit
              + " and "
              + unauthenticatedRateLimit);
    }
    webhooks = List.copyOf(webhooks);
  }

  /** A free port, the system clock, tokens valid for an hour, GitHub's rate limits, no webhooks. */
  public static SimulatorOptions defaults() {
    return new SimulatorOptions(0, Clock.systemUTC(), Duration.ofHours(1), 5000, 60, List.of());
  }

  public SimulatorOptions withPort(int newPort) {
    return new SimulatorOptions(
        newPort, clock, tokenLifetime, rateLimit, unauthenticatedRateLimit, webhooks);
  }

  public SimulatorOptions withClock(Clock newClock) {
    return new SimulatorOptions(
        port, newClock, tokenLifetime, rateLimit, unauthenticatedRateLimit, webhooks);
  }

  /** Requests per hour of each token or App, and of each client without valid credentials. */
  public SimulatorOptions withRateLimits(int perToken, int perUnauthenticatedClient) {
    return new SimulatorOptions(
        port, clock, tokenLifetime, perToken, perUnauthenticatedClient, webhooks);
  }

  /**
   * These options with {@code webhook} added: {@code microrunner sim --webhook-url URL
   * --webhook-secret-file FILE} passes {@code new SimWebhook(url, secret)}.
   */
  public SimulatorOptions withWebhook(SimWebhook webhook) {
    List<SimWebhook> more = new ArrayList<>(webhooks);
    more.add(Objects.requireNonNull(webhook, "webhook"));
    return new SimulatorOptions(
        port, clock, tokenLifetime, rateLimit, unauthenticatedRateLimit, more);
  }
}
