package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubRateLimitException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.TestSupport;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * GitHub's primary rate limit: an hour's window per token from its first request, counted per
 * client address without valid credentials, headers on every answer, a 403 with {@code
 * x-ratelimit-remaining: 0} once the window is used up.
 */
class RateLimitTest {

  private static final String PAT = "ghp_rateLimitTestToken0000000000";
  private static final String OTHER_PAT = "ghp_rateLimitTestOther0000000000";
  private static final String RUNNERS = "/repos/octo/hello/actions/runners";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TestSupport.MutableClock clock =
      new TestSupport.MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  private final HttpClient http = HttpClient.newHttpClient();
  private GitHubSimulator sim;

  private void start(SimulatorOptions options) throws Exception {
    sim = GitHubSimulator.start(options.withClock(clock));
    sim.acceptToken(PAT);
    sim.acceptToken(OTHER_PAT);
    sim.addRepository("octo/hello");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(sim.apiUrl().resolve(path)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String header(HttpResponse<String> response, String name) {
    return response.headers().firstValue(name).orElseThrow(() -> new AssertionError(name));
  }

  private static long epoch(Instant instant) {
    return instant.getEpochSecond();
  }

  @Test
  void theWindowStartsAtTheFirstRequestAndResetsAnHourLater() throws Exception {
    start(SimulatorOptions.defaults());
    clock.advance(Duration.ofMinutes(10));
    Instant firstRequest = clock.instant();
    HttpResponse<String> first = get(RUNNERS, PAT);
    assertEquals("5000", header(first, "x-ratelimit-limit"));
    assertEquals("4999", header(first, "x-ratelimit-remaining"));
    assertEquals("1", header(first, "x-ratelimit-used"));
    assertEquals("core", header(first, "x-ratelimit-resource"));
    long reset = epoch(firstRequest.plus(Duration.ofHours(1)));
    assertEquals(String.valueOf(reset), header(first, "x-ratelimit-reset"));

    clock.advance(Duration.ofMinutes(59));
    HttpResponse<String> later = get(RUNNERS, PAT);
    assertEquals("4998", header(later, "x-ratelimit-remaining"));
    assertEquals(String.valueOf(reset), header(later, "x-ratelimit-reset"), "same window");

    clock.advance(Duration.ofMinutes(1));
    HttpResponse<String> next = get(RUNNERS, PAT);
    assertEquals("4999", header(next, "x-ratelimit-remaining"), "a new window");
    assertEquals(
        String.valueOf(epoch(clock.instant().plus(Duration.ofHours(1)))),
        header(next, "x-ratelimit-reset"));
  }

  @Test
  void aUsedUpWindowIsA403WithRemainingZeroUntilItResets() throws Exception {
    start(SimulatorOptions.defaults().withRateLimits(3, 60));
    String jit = "/repos/octo/hello/actions/runners/generate-jitconfig";
    for (int i = 1; i <= 3; i++) {
      assertEquals(201, post(jit, PAT, i).statusCode());
    }
    HttpResponse<String> refused = post(jit, PAT, 4);
    assertEquals(403, refused.statusCode());
    assertEquals("0", header(refused, "x-ratelimit-remaining"));
    assertEquals("3", header(refused, "x-ratelimit-used"));
    assertEquals("3", header(refused, "x-ratelimit-limit"));
    assertEquals(
        String.valueOf(epoch(clock.instant().plus(Duration.ofHours(1)))),
        header(refused, "x-ratelimit-reset"));
    JsonNode body = JSON.readTree(refused.body());
    assertEquals("API rate limit exceeded for user ID 1.", body.path("message").asText());
    assertEquals("403", body.path("status").asText());
    assertTrue(body.path("documentation_url").asText().contains("rate-limits"));
    assertEquals(3, sim.state().runners().size(), "the refused request registered a runner");

    assertEquals(200, get(RUNNERS, OTHER_PAT).statusCode(), "each token has its own window");

    clock.advance(Duration.ofMinutes(59).plusSeconds(59));
    assertEquals(403, get(RUNNERS, PAT).statusCode());
    clock.advance(Duration.ofSeconds(1));
    HttpResponse<String> restored = get(RUNNERS, PAT);
    assertEquals(200, restored.statusCode());
    assertEquals("2", header(restored, "x-ratelimit-remaining"));
  }

  private HttpResponse<String> post(String path, String token, int runner) throws Exception {
    String body =
        JSON.createObjectNode()
            .put("name", "runner-" + runner)
            .put("runner_group_id", 1)
            .set("labels", JSON.createArrayNode().add("krun"))
            .toString();
    HttpRequest request =
        HttpRequest.newBuilder(sim.apiUrl().resolve(path))
            .header("Authorization", "Bearer " + token)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void requestsWithoutValidCredentialsCountAgainstTheClientNotTheToken() throws Exception {
    start(SimulatorOptions.defaults().withRateLimits(5, 2));
    assertEquals("4", header(get(RUNNERS, PAT), "x-ratelimit-remaining"));

    HttpResponse<String> none = get(RUNNERS, null);
    assertEquals(401, none.statusCode());
    assertEquals("2", header(none, "x-ratelimit-limit"));
    assertEquals("1", header(none, "x-ratelimit-remaining"));
    HttpResponse<String> wrong = get(RUNNERS, PAT + "x");
    assertEquals(401, wrong.statusCode());
    assertEquals("0", header(wrong, "x-ratelimit-remaining"));

    HttpResponse<String> limited = get(RUNNERS, "ghp_yetAnotherWrongToken");
    assertEquals(403, limited.statusCode(), "the client's window is used up");
    assertTrue(
        JSON.readTree(limited.body())
            .path("message")
            .asText()
            .startsWith("API rate limit exceeded for 127.0.0.1."),
        limited::body);

    HttpResponse<String> valid = get(RUNNERS, PAT);
    assertEquals(200, valid.statusCode());
    assertEquals("3", header(valid, "x-ratelimit-remaining"), "the 401s cost the token nothing");
  }

  @Test
  void injectedFaultsStillAnswerFirstAndCostNothing() throws Exception {
    start(SimulatorOptions.defaults().withRateLimits(5, 60));
    get(RUNNERS, PAT);
    sim.injectFault(Fault.serverError(1, 502));
    HttpResponse<String> failed = get(RUNNERS, PAT);
    assertEquals(502, failed.statusCode());
    assertEquals("4", header(failed, "x-ratelimit-remaining"));
    sim.injectFault(Fault.primaryRateLimit(1, Duration.ofSeconds(30)));
    HttpResponse<String> limited = get(RUNNERS, PAT);
    assertEquals(403, limited.statusCode());
    assertEquals("0", header(limited, "x-ratelimit-remaining"));
    assertEquals(
        String.valueOf(epoch(clock.instant().plusSeconds(30))),
        header(limited, "x-ratelimit-reset"));
    assertEquals("3", header(get(RUNNERS, PAT), "x-ratelimit-remaining"));
  }

  @Test
  void theClientWaitsForTheResetAndThenSucceeds() throws Exception {
    start(SimulatorOptions.defaults().withRateLimits(2, 60));
    TestSupport.RecordingSleeper sleeper = new TestSupport.RecordingSleeper(clock);
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(PAT)))
            .clock(clock)
            .sleeper(sleeper)
            .build();
    client.generateJitConfig(new JitRequest("r1", 1, List.of("krun")));
    clock.advance(Duration.ofMinutes(20));
    client.generateJitConfig(new JitRequest("r2", 1, List.of("krun")));

    client.generateJitConfig(new JitRequest("r3", 1, List.of("krun")));
    assertEquals(List.of(Duration.ofMinutes(40).plusSeconds(1)), sleeper.sleeps);
    assertEquals(3, sim.state().runners().size());
  }

  @Test
  void theClientGivesUpWhenTheResetIsBeyondItsLongestWait() throws Exception {
    start(SimulatorOptions.defaults().withRateLimits(1, 60));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(PAT)))
            .clock(clock)
            .sleeper(new TestSupport.RecordingSleeper(clock))
            .build();
    client.listRunners();
    GitHubRateLimitException e = assertThrows(GitHubRateLimitException.class, client::listRunners);
    assertEquals(
        Optional.of(clock.instant().plus(Duration.ofHours(1)).plusSeconds(1)), e.retryAt());
  }
}
