package dev.microrunner.github.sim.internal;

import dev.microrunner.github.sim.Fault;
import dev.microrunner.github.sim.SimulatorOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What GitHub's REST API puts around every answer, whatever the endpoint: the request counts
 * against its caller's rate-limit window (a used-up window is a 403 instead of the endpoint), an
 * injected latency delays it, an injected fault answers instead of the endpoint, and the answer
 * carries the caller's {@code x-ratelimit-*} headers and the API version.
 */
final class RestApiEnvelope {

  private static final String RATE_LIMIT_DOCS =
      Reply.DOCS + "/overview/rate-limits-for-the-rest-api";

  private final SimStore store;
  private final RestApiRoutes routes;
  private final RateLimits rateLimits;
  private final int rateLimit;
  private final int unauthenticatedRateLimit;

  RestApiEnvelope(SimStore store, RestApiRoutes routes, SimulatorOptions options) {
    this.store = store;
    this.routes = routes;
    this.rateLimits = new RateLimits(options.clock());
    this.rateLimit = options.rateLimit();
    this.unauthenticatedRateLimit = options.unauthenticatedRateLimit();
  }

  Reply handle(Request request) throws IOException, InterruptedException {
    SimStore.ApiCall call = store.countApiRequest();
    Caller caller = routes.caller(request);
    int limit = caller.authenticated() ? rateLimit : unauthenticatedRateLimit;
    // A fault's answer is made when it is taken: a rate limit resets counting from then. It
    // answers instead of GitHub, so it does not count against the caller's window.
    Optional<Reply> fault =
        call.fault().map(taken -> faultReply(taken, rateLimits.peek(caller.rateLimitKey(), limit)));
    // Half the latency on the way in, half on the way out: a request is acted on before its
    // answer arrives, so a client that dies meanwhile leaves its effect behind, as at GitHub.
    Duration inbound = call.latency().dividedBy(2);
    Duration outbound = call.latency().minus(inbound);
    Thread.sleep(inbound.toMillis());
    if (fault.isPresent()) {
      Thread.sleep(outbound.toMillis());
      return withApiVersion(fault.get());
    }
    RateLimits.Budget budget = rateLimits.take(caller.rateLimitKey(), limit);
    Reply reply;
    if (budget.refused()) {
      reply = Reply.of(403, Reply.errorBody(403, caller.rateLimitExceeded(), RATE_LIMIT_DOCS));
    } else {
      try {
        reply = routes.handle(request, caller);
      } catch (HttpError e) {
        // Refusals (bad JSON, 422, a JWT that does not verify) count against the rate limit on
        // GitHub and carry its headers like any other answer.
        reply = e.reply();
      }
    }
    Thread.sleep(outbound.toMillis());
    Map<String, String> headers = new LinkedHashMap<>(budget.headers());
    headers.putAll(reply.headers());
    return withApiVersion(new Reply(reply.status(), reply.body(), headers));
  }

  private static Reply withApiVersion(Reply reply) {
    Map<String, String> headers = new LinkedHashMap<>(reply.headers());
    headers.putIfAbsent("X-GitHub-Api-Version-Selected", "2022-11-28");
    return new Reply(reply.status(), reply.body(), headers);
  }

  /** The fault's answer; {@code budget} is the caller's window, shown as GitHub would. */
  private Reply faultReply(Fault fault, RateLimits.Budget budget) {
    Map<String, String> headers = new LinkedHashMap<>(budget.headers());
    return switch (fault.kind()) {
      case PRIMARY_RATE_LIMIT -> {
        headers.put("x-ratelimit-remaining", "0");
        headers.put("x-ratelimit-used", String.valueOf(budget.limit()));
        headers.put(
            "x-ratelimit-reset",
            String.valueOf(store.now().plus(fault.duration()).getEpochSecond()));
        yield new Reply(
            fault.status(),
            Reply.errorBody(
                fault.status(), "API rate limit exceeded for user ID 1.", RATE_LIMIT_DOCS),
            headers);
      }
      case SECONDARY_RATE_LIMIT -> {
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
      case SERVER_ERROR ->
          new Reply(
              fault.status(), Reply.errorBody(fault.status(), "Server Error", Reply.DOCS), headers);
      case LATENCY -> throw new IllegalStateException("latency is not a per-request fault");
    };
  }
}
