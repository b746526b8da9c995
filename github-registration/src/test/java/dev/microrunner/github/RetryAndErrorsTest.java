package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retries, back-off and rate limits with a controlled clock: nothing here really waits. */
class RetryAndErrorsTest {

  private static final String TOKEN = "ghp_retryTokenValue0123456789";
  private static final String PATH = "/repos/octo/hello/actions/runners/registration-token";
  private static final String OK = "{\"token\":\"REG\",\"expires_at\":\"2026-01-01T01:00:00Z\"}";
  private static final String SECONDARY =
      "{\"message\":\"You have exceeded a secondary rate limit. Please wait a few minutes.\"}";

  private RecordingGitHub github;
  private final TestSupport.MutableClock clock =
      new TestSupport.MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final TestSupport.RecordingSleeper sleeper = new TestSupport.RecordingSleeper(clock);

  @BeforeEach
  void start() throws Exception {
    github = new RecordingGitHub();
  }

  @AfterEach
  void stop() {
    github.close();
  }

  private GitHubRunnerClient client(String scope, String principal, RetryPolicy policy) {
    return GitHubRunnerClient.builder(
            github.target(), RunnerScope.of(scope, principal), Credentials.pat(Secret.of(TOKEN)))
        .clock(clock)
        .sleeper(sleeper)
        .retryPolicy(policy)
        .build();
  }

  private GitHubRunnerClient client() {
    return client("repo", "octo/hello", RetryPolicy.defaults());
  }

  private RecordingGitHub.Reply reply(int status, Map<String, String> headers, String body) {
    return new RecordingGitHub.Reply(status, headers, body);
  }

  private void expectToken(RecordingGitHub.Reply reply) {
    github.expect("POST", PATH, TOKEN, null, reply);
  }

  @Test
  void theObserverSeesEveryExchangeWithItsKindStatusAttemptAndRateLimitButNoSecret()
      throws Exception {
    List<GitHubCallObserver.Call> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    expectToken(reply(502, Map.of(), "{}"));
    expectToken(reply(201, Map.of("x-ratelimit-remaining", "4321"), OK));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                github.target(),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(TOKEN)))
            .clock(clock)
            .sleeper(sleeper)
            .observer(calls::add)
            .build();

    client.createRegistrationToken();

    assertEquals(2, calls.size(), "" + calls);
    assertEquals("registration-token", calls.get(0).endpoint());
    assertEquals(502, calls.get(0).status());
    assertFalse(calls.get(0).retry());
    assertEquals(201, calls.get(1).status());
    assertTrue(calls.get(1).retry());
    assertEquals(java.util.OptionalLong.of(4321), calls.get(1).rateLimitRemaining());
    assertFalse(calls.toString().contains(TOKEN));
    github.assertAllMet();
  }

  @Test
  void endpointKindsAreAFixedSetThatNeverHoldsAnId() {
    assertEquals(
        "jitconfig",
        GitHubCallObserver.endpointOf("POST", "/orgs/o/actions/runners/generate-jitconfig"));
    assertEquals(
        "delete-runner", GitHubCallObserver.endpointOf("DELETE", "/repos/o/r/actions/runners/42"));
    assertEquals("runners", GitHubCallObserver.endpointOf("GET", "/repos/o/r/actions/runners/42"));
    assertEquals(
        "runner-groups", GitHubCallObserver.endpointOf("GET", "/orgs/o/actions/runner-groups"));
    assertEquals(
        "installation-token",
        GitHubCallObserver.endpointOf("POST", "/app/installations/7/access_tokens"));
    assertEquals("other", GitHubCallObserver.endpointOf("GET", "/zen"));
  }

  @Test
  void secondaryLimitWithRetryAfterSeconds() throws Exception {
    expectToken(reply(403, Map.of("retry-after", "7"), SECONDARY));
    expectToken(reply(201, Map.of(), OK));
    assertEquals("REG", client().createRegistrationToken().token().reveal());
    assertEquals(List.of(Duration.ofSeconds(7)), sleeper.sleeps);
    github.assertAllMet();
  }

  @Test
  void secondaryLimitWithRetryAfterAsHttpDate() throws Exception {
    String date =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            clock.instant().plusSeconds(30).atOffset(ZoneOffset.UTC));
    expectToken(reply(429, Map.of("retry-after", date), SECONDARY));
    expectToken(reply(201, Map.of(), OK));
    client().createRegistrationToken();
    assertEquals(List.of(Duration.ofSeconds(30)), sleeper.sleeps);
    github.assertAllMet();
  }

  @Test
  void secondaryLimitWithoutRetryAfterWaitsAMinuteThenLonger() throws Exception {
    expectToken(reply(403, Map.of(), SECONDARY));
    expectToken(reply(403, Map.of(), SECONDARY));
    expectToken(reply(201, Map.of(), OK));
    client().createRegistrationToken();
    assertEquals(List.of(Duration.ofSeconds(60), Duration.ofSeconds(120)), sleeper.sleeps);
    github.assertAllMet();
  }

  @Test
  void primaryLimitWaitsUntilTheReset() throws Exception {
    long reset = clock.instant().plusSeconds(120).getEpochSecond();
    expectToken(
        reply(
            403,
            Map.of(
                "x-ratelimit-remaining",
                "0",
                "x-ratelimit-limit",
                "5000",
                "x-ratelimit-reset",
                String.valueOf(reset)),
            "{\"message\":\"API rate limit exceeded for user ID 1.\"}"));
    expectToken(reply(201, Map.of(), OK));
    client().createRegistrationToken();
    assertEquals(1, sleeper.sleeps.size());
    assertEquals(Duration.ofSeconds(121), sleeper.sleeps.get(0));
    assertFalse(clock.instant().isBefore(Instant.ofEpochSecond(reset)));
    github.assertAllMet();
  }

  @Test
  void rateLimitBeyondThePolicyFailsWithoutWaiting() throws Exception {
    long reset = clock.instant().plus(Duration.ofHours(2)).getEpochSecond();
    expectToken(
        reply(
            429,
            Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset", String.valueOf(reset)),
            "{}"));
    GitHubRateLimitException e =
        assertThrows(GitHubRateLimitException.class, () -> client().createRegistrationToken());
    assertTrue(e.retryable());
    assertFalse(e.isRefusal(), "a rate limit lifts");
    assertEquals(Instant.ofEpochSecond(reset + 1), e.retryAt().orElseThrow());
    assertTrue(sleeper.sleeps.isEmpty());
    github.assertAllMet();
  }

  @Test
  void serverErrorsThenSuccessBackOffExponentiallyWithJitter() throws Exception {
    expectToken(reply(502, Map.of(), "{\"message\":\"Server Error\"}"));
    expectToken(reply(503, Map.of(), null));
    expectToken(reply(201, Map.of(), OK));
    client().createRegistrationToken();
    assertEquals(2, sleeper.sleeps.size());
    assertBetween(sleeper.sleeps.get(0), 500, 1000);
    assertBetween(sleeper.sleeps.get(1), 1000, 2000);
    github.assertAllMet();
  }

  @Test
  void serverErrorsUntilGivingUp() throws Exception {
    for (int i = 0; i < 5; i++) {
      expectToken(reply(500, Map.of(), "{\"message\":\"Server Error\"}"));
    }
    GitHubUnavailableException e =
        assertThrows(GitHubUnavailableException.class, () -> client().createRegistrationToken());
    assertEquals(500, e.status());
    assertTrue(e.retryable());
    assertFalse(e.isRefusal(), "an outage ends");
    assertEquals(5, github.seen().size());
    assertEquals(4, sleeper.sleeps.size());
    assertBetween(sleeper.sleeps.get(0), 500, 1000);
    assertBetween(sleeper.sleeps.get(1), 1000, 2000);
    assertBetween(sleeper.sleeps.get(2), 2000, 4000);
    assertBetween(sleeper.sleeps.get(3), 4000, 8000);
    github.assertAllMet();
  }

  @Test
  void backOffIsCapped() throws Exception {
    RetryPolicy policy =
        new RetryPolicy(
            3,
            Duration.ofSeconds(50),
            Duration.ofSeconds(60),
            Duration.ofSeconds(60),
            Duration.ofHours(1));
    for (int i = 0; i < 3; i++) {
      expectToken(reply(500, Map.of(), "{}"));
    }
    assertThrows(
        GitHubUnavailableException.class,
        () -> client("repo", "octo/hello", policy).createRegistrationToken());
    assertBetween(sleeper.sleeps.get(1), 30_000, 60_000);
  }

  @Test
  void networkErrorsAreRetriedThenReported() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of("http://127.0.0.1:" + closedPort),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(TOKEN)))
            .clock(clock)
            .sleeper(sleeper)
            .retryPolicy(RetryPolicy.defaults().withMaxAttempts(3))
            .build();
    GitHubUnavailableException e =
        assertThrows(GitHubUnavailableException.class, client::createRegistrationToken);
    assertEquals(0, e.status());
    assertEquals(2, sleeper.sleeps.size());
    assertTrue(e.getMessage().contains("cannot reach GitHub"), e.getMessage());
  }

  @Test
  void unauthorizedIsNeverRetried() throws Exception {
    expectToken(
        reply(401, Map.of(), "{\"message\":\"Bad credentials\",\"documentation_url\":\"x\"}"));
    GitHubAuthenticationException e =
        assertThrows(GitHubAuthenticationException.class, () -> client().createRegistrationToken());
    assertEquals(1, github.seen().size());
    assertTrue(sleeper.sleeps.isEmpty());
    assertFalse(e.retryable());
    assertTrue(e.isRefusal(), "401 is GitHub refusing for good");
    assertEquals(401, e.status());
    assertTrue(e.getMessage().contains("Bad credentials"), e.getMessage());
    assertFalse(e.getMessage().contains(TOKEN));
    github.assertAllMet();
  }

  @Test
  void forbiddenSaysWhichPermissionEachScopeNeeds() throws Exception {
    String forbidden = "{\"message\":\"Resource not accessible by personal access token\"}";
    github.expect("POST", PATH, TOKEN, null, 403, forbidden);
    github.expect(
        "POST", "/orgs/octo/actions/runners/registration-token", TOKEN, null, 403, forbidden);
    github.expect(
        "POST", "/enterprises/big/actions/runners/registration-token", TOKEN, null, 403, forbidden);
    GitHubPermissionException refused =
        assertThrows(GitHubPermissionException.class, () -> client().createRegistrationToken());
    assertTrue(refused.isRefusal());
    String repo = refused.getMessage();
    assertTrue(repo.contains("Administration: read and write") && repo.contains("'repo'"), repo);
    String org =
        assertThrows(
                GitHubPermissionException.class,
                () -> client("org", "octo", RetryPolicy.defaults()).createRegistrationToken())
            .getMessage();
    assertTrue(
        org.contains("Self-hosted runners: read and write") && org.contains("admin:org"), org);
    String enterprise =
        assertThrows(
                GitHubPermissionException.class,
                () -> client("enterprise", "big", RetryPolicy.defaults()).createRegistrationToken())
            .getMessage();
    assertTrue(enterprise.contains("manage_runners:enterprise"), enterprise);
    assertEquals(3, github.seen().size());
    assertTrue(sleeper.sleeps.isEmpty());
    github.assertAllMet();
  }

  @Test
  void notFoundSaysThePrincipalIsMissingOrInvisible() throws Exception {
    github.expect("POST", PATH, TOKEN, null, 404, "{\"message\":\"Not Found\"}");
    GitHubNotFoundException notFound =
        assertThrows(GitHubNotFoundException.class, () -> client().createRegistrationToken());
    assertTrue(notFound.isRefusal());
    String message = notFound.getMessage();
    assertTrue(message.contains("repository octo/hello was not found"), message);
    assertTrue(message.contains("token cannot see it"), message);
    github.assertAllMet();
  }

  @Test
  void duplicateJitRunnerNamesAreConflicts() throws Exception {
    github.expect(
        "POST",
        "/repos/octo/hello/actions/runners/generate-jitconfig",
        TOKEN,
        "{\"name\":\"r1\",\"runner_group_id\":1,\"labels\":[\"krun\"]}",
        409,
        "{\"message\":\"Already exists - A runner with the name r1 already exists.\"}");
    GitHubConflictException e =
        assertThrows(
            GitHubConflictException.class,
            () -> client().generateJitConfig(new JitRequest("r1", 1, List.of("krun"))));
    assertTrue(e.getMessage().contains("'r1' already exists"), e.getMessage());
    assertFalse(e.isRefusal(), "another name may be registered");
    github.assertAllMet();
  }

  @Test
  void deletingABusyRunnerIsAValidationError() throws Exception {
    github.expect(
        "DELETE",
        "/repos/octo/hello/actions/runners/5",
        TOKEN,
        null,
        422,
        "{\"message\":\"Bad request - Runner is still running a job\"}");
    GitHubValidationException e =
        assertThrows(GitHubValidationException.class, () -> client().deleteRunner(5));
    assertTrue(e.getMessage().contains("while it runs a job"), e.getMessage());
    assertTrue(e.isRefusal(), "the request stands refused; the caller retries once the job ended");
    github.assertAllMet();
  }

  @Test
  void paginationNeverFollowsLinksToAnotherHost() throws Exception {
    github.expect(
        "GET",
        "/repos/octo/hello/actions/runners?per_page=100",
        TOKEN,
        null,
        reply(
            200,
            Map.of("Link", "<https://evil.example/steal?page=2>; rel=\"next\""),
            "{\"total_count\":0,\"runners\":[]}"));
    GitHubException e = assertThrows(GitHubException.class, () -> client().listRunners());
    assertTrue(e.getMessage().contains("evil.example"), e.getMessage());
    assertEquals(1, github.seen().size());
  }

  @Test
  void aClientOfYourOwnMustNotFollowRedirects() {
    GitHubRunnerClient.Builder builder =
        GitHubRunnerClient.builder(
            github.target(),
            RunnerScope.of("repo", "octo/hello"),
            Credentials.pat(Secret.of(TOKEN)));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                builder.httpClient(
                    HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()));
    assertTrue(e.getMessage().contains("Redirect.NEVER"), e.getMessage());
    builder.httpClient(HttpClient.newHttpClient());
  }

  @Test
  void concurrentCallsShareTwoHttpThreadsThatEndWithTheClient() throws Exception {
    int calls = 20;
    for (int i = 0; i < calls; i++) {
      expectToken(reply(201, Map.of(), OK));
    }
    Set<Thread> before = httpThreads();
    GitHubRunnerClient client = client();
    ExecutorService callers = Executors.newFixedThreadPool(calls);
    try {
      List<Future<RegistrationToken>> tokens = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        tokens.add(callers.submit(client::createRegistrationToken));
      }
      for (Future<RegistrationToken> token : tokens) {
        token.get(30, TimeUnit.SECONDS);
      }
    } finally {
      callers.shutdown();
    }
    // The JDK client's own executor starts a thread per request in flight.
    Set<Thread> own = httpThreads();
    own.removeAll(before);
    assertTrue(own.size() >= 1 && own.size() <= 2, own.size() + " HTTP threads");
    client.close();
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> own.stream().noneMatch(Thread::isAlive));
    github.assertAllMet();
  }

  private static Set<Thread> httpThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> thread.getName().equals("github-http") && thread.isAlive())
        .collect(Collectors.toCollection(HashSet::new));
  }

  @Test
  void theRecordingServerCatchesAWrongCall() throws Exception {
    github.expect("POST", "/repos/octo/hello/actions/runners/remove-token", TOKEN, null, 201, OK);
    client().createRegistrationToken();
    AssertionError error = assertThrows(AssertionError.class, github::assertAllMet);
    assertTrue(error.getMessage().contains("registration-token"), error.getMessage());
  }

  private static void assertBetween(Duration actual, long minMillis, long maxMillis) {
    assertTrue(
        actual.toMillis() >= minMillis && actual.toMillis() <= maxMillis,
        actual + " not in [" + minMillis + ", " + maxMillis + "] ms");
  }
}
