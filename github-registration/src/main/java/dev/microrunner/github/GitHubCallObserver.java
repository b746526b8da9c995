package dev.microrunner.github;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Told about every HTTP exchange a {@link GitHubRunnerClient} has with GitHub, retries included:
 * what metrics need (which kind of call, its status, whether it was a retry, the rate limit left).
 * Nothing in a {@link Call} is a secret or unbounded: no URL, no runner name, no token, no body.
 * Called on the thread that made the call; keep it fast. An exception it throws is ignored.
 */
@FunctionalInterface
public interface GitHubCallObserver {

  void onCall(Call call);

  /** An observer that ignores everything. */
  static GitHubCallObserver none() {
    return call -> {};
  }

  /**
   * One exchange.
   *
   * @param endpoint the kind of call, one of a small fixed set ({@link #endpointOf})
   * @param method the HTTP method
   * @param status the HTTP status, or 0 when no answer came (network error, timeout)
   * @param attempt 1 for the first try of a call, 2 and more for its retries
   * @param rateLimitRemaining GitHub's {@code x-ratelimit-remaining} of the answer, when it had one
   * @param duration how long the exchange took
   */
  record Call(
      String endpoint,
      String method,
      int status,
      int attempt,
      OptionalLong rateLimitRemaining,
      Duration duration) {
    public Call {
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(rateLimitRemaining, "rateLimitRemaining");
      Objects.requireNonNull(duration, "duration");
    }

    /** Whether this exchange repeated an earlier one of the same call. */
    public boolean retry() {
      return attempt > 1;
    }
  }

  /**
   * The kind of call a request path is, from a fixed set: {@code jitconfig}, {@code
   * registration-token}, {@code remove-token}, {@code runners} (list or get), {@code
   * delete-runner}, {@code runner-groups}, {@code downloads}, {@code releases}, {@code
   * installation}, {@code installation-token}, {@code other}. Never the path itself: it holds ids.
   */
  static String endpointOf(String method, String rawPath) {
    String path = rawPath == null ? "" : rawPath;
    if (path.endsWith("/generate-jitconfig")) {
      return "jitconfig";
    }
    if (path.endsWith("/registration-token")) {
      return "registration-token";
    }
    if (path.endsWith("/remove-token")) {
      return "remove-token";
    }
    if (path.contains("/runner-groups")) {
      return "runner-groups";
    }
    if (path.endsWith("/actions/runners/downloads")) {
      return "downloads";
    }
    if (path.startsWith("/repos/actions/runner/releases")
        || path.contains("/repos/actions/runner/releases")) {
      return "releases";
    }
    if (path.endsWith("/access_tokens")) {
      return "installation-token";
    }
    if (path.endsWith("/installation") || path.contains("/installations")) {
      return "installation";
    }
    if (path.contains("/actions/runners")) {
      return "DELETE".equals(method.toUpperCase(Locale.ROOT)) ? "delete-runner" : "runners";
    }
    return "other";
  }
}
