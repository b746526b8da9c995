package dev.microrunner.github.sim.internal;

import dev.microrunner.github.sim.Fault;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What GitHub's REST API puts around every answer, whatever the endpoint: the request counts
 * against the rate limit, an injected latency delays it, an injected fault answers instead of the
 * endpoint, and the answer carries the {@code x-ratelimit-*} headers and the API version.
 */
final class RestApiEnvelope {

  private static final int RATE_LIMIT = 5000;
  private static final String RATE_LIMIT_DOCS =
      Reply.DOCS + "/overview/rate-limits-for-the-rest-api";

  private final SimStore store;
  private final RestApiRoutes routes;
  private final Instant rateLimitWindowStart;

  RestApiEnvelope(SimStore store, RestApiRoutes routes, Instant rateLimitWindowStart) {
    this.store = store;
    this.routes = routes;
    this.rateLimitWindowStart = rateLimitWindowStart;
  }

  Reply handle(Request request) throws IOException, InterruptedException {
    SimStore.ApiCall call = store.countApiRequest();
    // The fault's answer is made when it is taken: a rate limit resets counting from then.
    Optional<Reply> fault = call.fault().map(this::faultReply);
    if (!call.latency().isZero()) {
      Thread.sleep(call.latency().toMillis());
    }
    Reply reply;
    try {
      reply = fault.isPresent() ? fault.get() : routes.handle(request);
    } catch (HttpError e) {
      // Refusals (bad JSON, 422, a JWT that does not verify) count against the rate limit on
      // GitHub and carry its headers like any other answer.
      reply = e.reply();
    }
    Map<String, String> headers = new LinkedHashMap<>(rateLimitHeaders());
    headers.putAll(reply.headers());
    headers.putIfAbsent("X-GitHub-Api-Version-Selected", "2022-11-28");
    return new Reply(reply.status(), reply.body(), headers);
  }

  private Map<String, String> rateLimitHeaders() {
    long used = Math.min(RATE_LIMIT, store.apiRequests());
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("x-ratelimit-limit", String.valueOf(RATE_LIMIT));
    headers.put("x-ratelimit-remaining", String.valueOf(RATE_LIMIT - used));
    headers.put("x-ratelimit-used", String.valueOf(used));
    headers.put(
        "x-ratelimit-reset",
        String.valueOf(rateLimitWindowStart.plus(Duration.ofHours(1)).getEpochSecond()));
    headers.put("x-ratelimit-resource", "core");
    return headers;
  }

  private Reply faultReply(Fault fault) {
    return switch (fault.kind()) {
      case PRIMARY_RATE_LIMIT -> {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("x-ratelimit-limit", String.valueOf(RATE_LIMIT));
        headers.put("x-ratelimit-remaining", "0");
        headers.put("x-ratelimit-used", String.valueOf(RATE_LIMIT));
        headers.put(
            "x-ratelimit-reset",
            String.valueOf(store.now().plus(fault.duration()).getEpochSecond()));
        headers.put("x-ratelimit-resource", "core");
        yield new Reply(
            fault.status(),
            Reply.errorBody(
                fault.status(), "API rate limit exceeded for user ID 1.", RATE_LIMIT_DOCS),
            headers);
      }
      case SECONDARY_RATE_LIMIT -> {
        Map<String, String> headers = new LinkedHashMap<>();
        if (!fault.duration().isZero()) {
          headers.put("retry-after", String.valueOf(fault.duration().toSeconds()));
        }
        yield new Reply(
            fault.status(),
            Reply.errorBody(
                fault.status(),
                "You have exceeded a secondary rate limit. Please wait a few minutes before you"
                    + " try again.",
                RATE_LIMIT_DOCS),
            headers);
      }
      case SERVER_ERROR -> Reply.error(fault.status(), "Server Error");
      case LATENCY -> throw new IllegalStateException("latency is not a per-request fault");
    };
  }
}
