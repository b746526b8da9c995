package dev.microrunner.github.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.microrunner.github.GitHubCallObserver;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubRateLimitException;
import dev.microrunner.github.GitHubUnavailableException;
import dev.microrunner.github.RateLimitStatus;
import dev.microrunner.github.RetryPolicy;
import dev.microrunner.github.Secret;
import dev.microrunner.github.Sleeper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One GitHub REST call with GitHub's headers, retries with back-off on 5xx and network errors, and
 * rate-limit waits as GitHub documents them. Never logs headers or bodies.
 */
public final class GitHubHttp {

  private static final Logger LOG = LoggerFactory.getLogger(GitHubHttp.class);
  public static final String API_VERSION = "2022-11-28";
  public static final String ACCEPT = "application/vnd.github+json";
  static final ObjectMapper JSON = new ObjectMapper();

  /** Supplies the bearer token for an attempt (installation tokens may be renewed). */
  @FunctionalInterface
  public interface BearerSource {
    Secret bearer() throws GitHubException;

    /** GitHub answered 401 to this bearer: a cached token must not be used again. */
    default void rejected(Secret bearer) {}
  }

  /** Turns a non-retryable error response into a specific exception. */
  @FunctionalInterface
  public interface FailureExplainer {
    GitHubException explain(String method, String path, int status, String githubMessage);
  }

  /** A response: status, headers and the parsed JSON body (missing when empty). */
  public record Response(int status, HttpHeaders headers, JsonNode body) {}

  private final HttpClient client;
  private final Clock clock;
  private final Sleeper sleeper;
  private final RetryPolicy policy;
  private final Duration requestTimeout;
  private final GitHubCallObserver observer;

  /** The rate limit of the latest answer that carried one; null before. */
  private volatile RateLimitStatus lastRateLimit;

  public GitHubHttp(
      HttpClient client,
      Clock clock,
      Sleeper sleeper,
      RetryPolicy policy,
      Duration requestTimeout) {
    this(client, clock, sleeper, policy, requestTimeout, GitHubCallObserver.none());
  }

  public GitHubHttp(
      HttpClient client,
      Clock clock,
      Sleeper sleeper,
      RetryPolicy policy,
      Duration requestTimeout,
      GitHubCallObserver observer) {
    this.client = client;
    this.clock = clock;
    this.sleeper = sleeper;
    this.policy = policy;
    this.requestTimeout = requestTimeout;
    this.observer = observer;
  }

  public Clock clock() {
    return clock;
  }

  /** GitHub's primary rate limit as the latest answer that carried its headers showed it. */
  public Optional<RateLimitStatus> lastRateLimit() {
    return Optional.ofNullable(lastRateLimit);
  }

  /**
   * Sends {@code method uri} with an optional JSON body. Returns 2xx responses and responses whose
   * status is in {@code passThrough}; retries or throws for the rest.
   */
  public Response send(
      String method,
      URI uri,
      JsonNode body,
      BearerSource bearer,
      Set<Integer> passThrough,
      FailureExplainer explainer)
      throws GitHubException {
    String what = method + " " + uri.getRawPath();
    String endpoint = GitHubCallObserver.endpointOf(method, uri.getRawPath());
    int secondaryLimits = 0;
    for (int attempt = 1; ; attempt++) {
      HttpResponse<String> response;
      Secret token;
      long began = System.nanoTime();
      try {
        token = bearer.bearer();
        response =
            client.send(request(method, uri, body, token), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        observe(endpoint, method, 0, attempt, OptionalLong.empty(), began);
        String reason =
            e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        if (attempt >= policy.maxAttempts()) {
          throw new GitHubUnavailableException(
              "cannot reach GitHub for "
                  + what
                  + " after "
                  + attempt
                  + " tries ("
                  + reason
                  + "); check the network, proxy and GitHub host",
              0,
              e);
        }
        Duration wait = backoff(attempt);
        LOG.warn(
            "{} failed ({}), try {} of {}; retrying in {} ms",
            what,
            reason,
            attempt,
            policy.maxAttempts(),
            wait.toMillis());
        pause(wait, what);
        continue;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new GitHubException("interrupted during " + what, 0, false, e);
      }
      int status = response.statusCode();
      LOG.debug("{} -> {}", what, status);
      observe(
          endpoint,
          method,
          status,
          attempt,
          response
              .headers()
              .firstValue("x-ratelimit-remaining")
              .flatMap(GitHubHttp::parseLong)
              .map(OptionalLong::of)
              .orElse(OptionalLong.empty()),
          began);
      rateLimitOf(response.headers()).ifPresent(limit -> lastRateLimit = limit);
      JsonNode json = parse(response.body());
      if (status / 100 == 2 || passThrough.contains(status)) {
        return new Response(status, response.headers(), json);
      }
      String message = json.path("message").asText("");
      Optional<Duration> rateLimitWait =
          rateLimitWait(status, response.headers(), message, secondaryLimits);
      if (rateLimitWait.isPresent()) {
        Duration wait = rateLimitWait.get();
        if (!response.headers().firstValue("retry-after").isPresent()
            && !isPrimary(response.headers())) {
          secondaryLimits++;
        }
        Instant retryAt = clock.instant().plus(wait);
        if (attempt >= policy.maxAttempts() || wait.compareTo(policy.maxRateLimitWait()) > 0) {
          throw new GitHubRateLimitException(
              "GitHub rate limit hit for "
                  + what
                  + " (HTTP "
                  + status
                  + ", "
                  + (isPrimary(response.headers()) ? "primary" : "secondary")
                  + " limit); it lifts at "
                  + retryAt
                  + ". Fewer runner loops or a token of its own per host help",
              status,
              retryAt);
        }
        LOG.warn(
            "{}: GitHub rate limit (HTTP {}); waiting {} s before try {} of {}",
            what,
            status,
            wait.toSeconds(),
            attempt + 1,
            policy.maxAttempts());
        pause(wait, what);
        continue;
      }
      if (status >= 500) {
        if (attempt >= policy.maxAttempts()) {
          throw new GitHubUnavailableException(
              "GitHub answered HTTP "
                  + status
                  + " to "
                  + what
                  + " "
                  + attempt
                  + " times; it may be down (https://www.githubstatus.com), try again later",
              status,
              null);
        }
        Duration wait = backoff(attempt);
        LOG.warn(
            "{}: HTTP {}, try {} of {}; retrying in {} ms",
            what,
            status,
            attempt,
            policy.maxAttempts(),
            wait.toMillis());
        pause(wait, what);
        continue;
      }
      if (status == 401) {
        bearer.rejected(token);
      }
      throw explainer.explain(method, uri.getRawPath(), status, message);
    }
  }

  private void observe(
      String endpoint,
      String method,
      int status,
      int attempt,
      OptionalLong rateLimitRemaining,
      long beganNanos) {
    try {
      observer.onCall(
          new GitHubCallObserver.Call(
              endpoint,
              method,
              status,
              attempt,
              rateLimitRemaining,
              Duration.ofNanos(System.nanoTime() - beganNanos)));
    } catch (RuntimeException e) {
      LOG.debug("GitHub call observer failed: {}", e.toString());
    }
  }

  private HttpRequest request(String method, URI uri, JsonNode body, Secret bearer) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri)
            .timeout(requestTimeout)
            .header("Accept", ACCEPT)
            .header("Authorization", "Bearer " + bearer.reveal())
            .header("X-GitHub-Api-Version", API_VERSION)
            .header("User-Agent", "microrunner");
    if (body == null) {
      builder.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      builder.header("Content-Type", "application/json");
      builder.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    }
    return builder.build();
  }

  private static JsonNode parse(String body) {
    if (body == null || body.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return MissingNode.getInstance();
    }
  }

  private static Optional<RateLimitStatus> rateLimitOf(HttpHeaders headers) {
    Optional<Long> limit = headers.firstValue("x-ratelimit-limit").flatMap(GitHubHttp::parseLong);
    Optional<Long> remaining =
        headers.firstValue("x-ratelimit-remaining").flatMap(GitHubHttp::parseLong);
    Optional<Long> reset = headers.firstValue("x-ratelimit-reset").flatMap(GitHubHttp::parseLong);
    if (limit.isEmpty() || remaining.isEmpty() || reset.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new RateLimitStatus(
            limit.get(),
            remaining.get(),
            Instant.ofEpochSecond(reset.get()),
            headers.firstValue("x-ratelimit-resource").map(String::trim).orElse("core")));
  }

  private static boolean isPrimary(HttpHeaders headers) {
    return headers
        .firstValue("x-ratelimit-remaining")
        .map(String::trim)
        .filter("0"::equals)
        .isPresent();
  }

  /**
   * GitHub's documented order: retry-after first, then remaining 0 with reset, else wait a minute
   * or more.
   */
  private Optional<Duration> rateLimitWait(
      int status, HttpHeaders headers, String message, int secondaryLimits) {
    boolean limited =
        status == 429
            || (status == 403
                && (isPrimary(headers)
                    || headers.firstValue("retry-after").isPresent()
                    || message.toLowerCase(java.util.Locale.ROOT).contains("rate limit")));
    if (!limited) {
      return Optional.empty();
    }
    Optional<String> retryAfter = headers.firstValue("retry-after");
    if (retryAfter.isPresent()) {
      return Optional.of(atLeastOneSecond(parseRetryAfter(retryAfter.get().trim())));
    }
    if (isPrimary(headers)) {
      Optional<Long> reset = headers.firstValue("x-ratelimit-reset").flatMap(GitHubHttp::parseLong);
      if (reset.isPresent()) {
        Duration untilReset = Duration.between(clock.instant(), Instant.ofEpochSecond(reset.get()));
        return Optional.of(atLeastOneSecond(untilReset.plusSeconds(1)));
      }
    }
    Duration wait =
        policy.secondaryRateLimitWait().multipliedBy(1L << Math.min(secondaryLimits, 16));
    return Optional.of(wait);
  }

  private Duration parseRetryAfter(String value) {
    Optional<Long> seconds = parseLong(value);
    if (seconds.isPresent()) {
      return Duration.ofSeconds(seconds.get());
    }
    try {
      Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      return Duration.between(clock.instant(), at);
    } catch (DateTimeParseException e) {
      return policy.secondaryRateLimitWait();
    }
  }

  private static Duration atLeastOneSecond(Duration wait) {
    return wait.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : wait;
  }

  private static Optional<Long> parseLong(String value) {
    try {
      return Optional.of(Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Exponential with "equal jitter": half the step fixed, half random, capped. */
  Duration backoff(int attempt) {
    long base = policy.initialBackoff().toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, policy.maxBackoff().toMillis());
    long half = capped / 2;
    return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(capped - half + 1));
  }

  private void pause(Duration wait, String what) throws GitHubException {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new GitHubException("interrupted while waiting to retry " + what, 0, false, e);
    }
  }
}
