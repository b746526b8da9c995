package dev.microrunner.github.sim.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * GitHub's primary rate limit for the REST API: every caller has a window of an hour that starts
 * with its first request and allows {@code limit} requests; when it has passed, the next request
 * starts a new one. Thread-safe.
 */
final class RateLimits {

  static final Duration WINDOW = Duration.ofHours(1);

  /**
   * A caller's window as a request leaves it.
   *
   * @param refused the request was over the limit: not counted, to be answered with a 403
   */
  record Budget(int limit, int used, Instant reset, boolean refused) {

    int remaining() {
      return limit - used;
    }

    /** {@code x-ratelimit-limit}, {@code -remaining}, {@code -used}, {@code -reset}, ... */
    Map<String, String> headers() {
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("x-ratelimit-limit", String.valueOf(limit));
      headers.put("x-ratelimit-remaining", String.valueOf(remaining()));
      headers.put("x-ratelimit-used", String.valueOf(used));
      headers.put("x-ratelimit-reset", String.valueOf(reset.getEpochSecond()));
      headers.put("x-ratelimit-resource", "core");
      return headers;
    }
  }

  private record Window(Instant start, int used) {
    Instant end() {
      return start.plus(WINDOW);
    }
  }

  private final Clock clock;
  private final Map<String, Window> windows = new HashMap<>();

  RateLimits(Clock clock) {
    this.clock = clock;
  }

  /** Counts a request of {@code caller}, unless its window is used up. */
  synchronized Budget take(String caller, int limit) {
    Window window = current(caller);
    boolean refused = window.used() >= limit;
    if (!refused) {
      window = new Window(window.start(), window.used() + 1);
      windows.put(caller, window);
    }
    return new Budget(limit, Math.min(window.used(), limit), window.end(), refused);
  }

  /** The caller's window as it is, for an answer that does not count (an injected fault). */
  synchronized Budget peek(String caller, int limit) {
    Window window = windows.getOrDefault(caller, new Window(clock.instant(), 0));
    if (!clock.instant().isBefore(window.end())) {
      window = new Window(clock.instant(), 0);
    }
    return new Budget(limit, Math.min(window.used(), limit), window.end(), false);
  }

  /** The caller's window, a new one when it never had one or its hour has passed. */
  private Window current(String caller) {
    Instant now = clock.instant();
    Window window = windows.get(caller);
    if (window == null || !now.isBefore(window.end())) {
      window = new Window(now, 0);
      windows.put(caller, window);
    }
    return window;
  }
}
