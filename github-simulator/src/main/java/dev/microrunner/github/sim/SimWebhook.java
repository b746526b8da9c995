package dev.microrunner.github.sim;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * A webhook of the simulator: where it sends {@code workflow_job} events (and a {@code ping} when
 * the webhook is added), signed with {@code secret} as GitHub signs them ({@code
 * X-Hub-Signature-256: sha256=HMAC-SHA256 hex of the body}).
 *
 * <p>GitHub does not retry a failed delivery (it can be redelivered by hand, with the same {@code
 * X-GitHub-Delivery}), and by default neither does the simulator: a receiver must not count on
 * retries. A test that wants them asks with {@link #withRetries}: up to {@code attempts} tries, the
 * same delivery id each time, waiting {@code retryBackoff}, then twice that, and so on, between
 * them.
 *
 * @param url the payload URL, {@code http} or {@code https}
 * @param secret the webhook secret (never shown by {@link #toString})
 * @param attempts tries per delivery, at least 1 (1: as GitHub)
 * @param retryBackoff the wait before the second try, doubled before each further one
 */
public record SimWebhook(URI url, String secret, int attempts, Duration retryBackoff) {

  /** Tries per delivery when nothing else is said. */
  public static final int DEFAULT_ATTEMPTS = 1;

  /** The first wait between two tries when nothing else is said. */
  public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofSeconds(1);

  /** A webhook with {@link #DEFAULT_ATTEMPTS} try per delivery, as GitHub's. */
  public SimWebhook(URI url, String secret) {
    this(url, secret, DEFAULT_ATTEMPTS, DEFAULT_RETRY_BACKOFF);
  }

  public SimWebhook {
    Objects.requireNonNull(url, "url");
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if ((!scheme.equals("http") && !scheme.equals("https")) || url.getHost() == null) {
      throw new IllegalArgumentException("webhook URL " + url + " is not an http(s) URL");
    }
    if (secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("webhook secret must not be empty");
    }
    if (attempts < 1) {
      throw new IllegalArgumentException("webhook attempts must be at least 1, got " + attempts);
    }
    Objects.requireNonNull(retryBackoff, "retryBackoff");
    if (retryBackoff.isNegative()) {
      throw new IllegalArgumentException("webhook retry backoff must not be negative");
    }
  }

  /** This webhook with {@code newAttempts} tries per delivery, {@code backoff} apart at first. */
  public SimWebhook withRetries(int newAttempts, Duration backoff) {
    return new SimWebhook(url, secret, newAttempts, backoff);
  }

  @Override
  public String toString() {
    return "SimWebhook[" + shownUrl() + ", secret redacted, " + attempts + " attempts]";
  }

  /**
   * The URL as logs and {@code toString} show it: without user info and query, where a receiver's
   * credentials could be.
   */
  public String shownUrl() {
    return url.getScheme()
        + "://"
        + url.getHost()
        + (url.getPort() < 0 ? "" : ":" + url.getPort())
        + (url.getRawPath() == null ? "" : url.getRawPath());
  }
}
