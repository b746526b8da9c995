package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubAuthenticationException;
import dev.microrunner.github.GitHubConflictException;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.GitHubUnavailableException;
import dev.microrunner.github.JitConfig;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RegistrationToken;
import dev.microrunner.github.RetryPolicy;
import dev.microrunner.github.Runner;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.TestSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against the simulator over real HTTP. */
class SimulatorClientTest {

  private static final String PAT = "ghp_simulatorToken0123456789abc";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestSupport.MutableClock clock = new TestSupport.MutableClock(Instant.now());
  private final TestSupport.RecordingSleeper sleeper = new TestSupport.RecordingSleeper(clock);
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults().withClock(clock));
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    sim.addRepository("octo/other");
    sim.addOrganization("octo");
    sim.addEnterprise("big");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private GitHubRunnerClient client(String scope, String principal) {
    return client(scope, principal, Credentials.pat(Secret.of(PAT)));
  }

  private GitHubRunnerClient client(String scope, String principal, Credentials credentials) {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(sim.apiUrl().toString()), RunnerScope.of(scope, principal), credentials)
        .clock(clock)
        .sleeper(sleeper)
        .build();
  }

  private HttpResponse<String> raw(String method, String path, String authorization, String body)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(sim.apiUrl().resolve(path));
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void tokensExpireAfterAnHour() throws Exception {
    RegistrationToken token = client("repo", "octo/hello").createRegistrationToken();
    assertEquals(29, token.token().reveal().length());
    assertEquals(
        clock.instant().plus(Duration.ofHours(1)).getEpochSecond(),
        token.expiresAt().getEpochSecond());
    assertFalse(client("org", "octo").createRemoveToken().token().reveal().isEmpty());
  }

  @Test
  void requestsWithoutValidCredentialsGetGitHubs401() throws Exception {
    HttpResponse<String> none = raw("GET", "/repos/octo/hello/actions/runners", null, null);
    assertEquals(401, none.statusCode());
    JsonNode body = JSON.readTree(none.body());
    assertEquals("Bad credentials", body.path("message").asText());
    assertTrue(body.path("documentation_url").asText().startsWith("https://docs.github.com/"));
    assertEquals(
        401, raw("GET", "/repos/octo/hello/actions/runners", "Bearer wrong", null).statusCode());
    String wrong = "ghp_wrongTokenValue000000000000";
    GitHubAuthenticationException e =
        assertThrows(
            GitHubAuthenticationException.class,
            () -> client("repo", "octo/hello", Credentials.pat(Secret.of(wrong))).listRunners());
    assertFalse(e.getMessage().contains(wrong));
    assertEquals(1, sim.state().apiRequests() - 2);
  }

  @Test
  void everyErrorBodyCarriesItsStatusAsAString() throws Exception {
    String bearer = "Bearer " + PAT;
    String jit = "/repos/octo/hello/actions/runners/generate-jitconfig";
    String body = "{\"name\":\"r1\",\"runner_group_id\":1,\"labels\":[\"krun\"]}";
    assertEquals(201, raw("POST", jit, bearer, body).statusCode());
    List<HttpResponse<String>> refusals = new ArrayList<>();
    refusals.add(raw("GET", "/repos/octo/hello/actions/runners", "Bearer wrong", null));
    refusals.add(raw("GET", "/no/such/path", bearer, null));
    refusals.add(raw("POST", jit, bearer, body));
    refusals.add(raw("POST", jit, bearer, "{}"));
    refusals.add(raw("POST", jit, bearer, "{not json"));
    sim.injectFault(Fault.primaryRateLimit(1, Duration.ofSeconds(30)));
    refusals.add(raw("GET", "/repos/octo/hello/actions/runners", bearer, null));
    sim.injectFault(new Fault(Fault.Kind.SECONDARY_RATE_LIMIT, 1, 429, Duration.ofSeconds(1)));
    refusals.add(raw("GET", "/repos/octo/hello/actions/runners", bearer, null));
    sim.injectFault(Fault.serverError(1, 502));
    refusals.add(raw("GET", "/repos/octo/hello/actions/runners", bearer, null));

    assertEquals(
        List.of(401, 404, 409, 422, 400, 403, 429, 502),
        refusals.stream().map(HttpResponse::statusCode).toList());
    for (HttpResponse<String> refusal : refusals) {
      JsonNode error = JSON.readTree(refusal.body());
      assertTrue(error.path("status").isTextual(), refusal::body);
      assertEquals(String.valueOf(refusal.statusCode()), error.path("status").asText());
      assertFalse(error.path("message").asText().isEmpty(), refusal::body);
      assertTrue(
          error.path("documentation_url").asText().startsWith("https://docs.github.com/"),
          refusal::body);
    }
  }

  @Test
  void responsesCarryRateLimitHeaders() throws Exception {
    HttpResponse<String> response = raw("GET", "/orgs/octo/actions/runners", "Bearer " + PAT, null);
    assertEquals(200, response.statusCode());
    assertEquals("5000", response.headers().firstValue("x-ratelimit-limit").orElseThrow());
    assertEquals("4999", response.headers().firstValue("x-ratelimit-remaining").orElseThrow());
    assertTrue(response.headers().firstValue("x-ratelimit-reset").isPresent());

    HttpResponse<String> refused =
        raw("POST", "/orgs/octo/actions/runners/generate-jitconfig", "Bearer " + PAT, "{}");
    assertEquals(422, refused.statusCode());
    assertEquals("4998", refused.headers().firstValue("x-ratelimit-remaining").orElseThrow());
  }

  @Test
  void jitRunnersCanBeListedFoundFetchedAndDeleted() throws Exception {
    GitHubRunnerClient client = client("repo", "octo/hello");
    JitConfig jit =
        client.generateJitConfig(new JitRequest("ubuntu-krun-1", 1, List.of("krun", "ubuntu")));
    JsonNode decoded = JSON.readTree(Base64.getDecoder().decode(jit.encodedJitConfig().reveal()));
    assertEquals(sim.apiUrl().toString(), decoded.path("sim_url").asText());
    assertEquals(jit.runner().id(), decoded.path("runner_id").asLong());

    Runner runner = client.findRunnerByName("ubuntu-krun-1").orElseThrow();
    assertEquals("offline", runner.status());
    assertTrue(runner.ephemeral());
    assertEquals(List.of("krun", "ubuntu"), runner.labels());
    assertEquals(runner, client.getRunner(runner.id()).orElseThrow());
    assertTrue(
        client("repo", "octo/other").listRunners().isEmpty(), "runners belong to their scope");

    assertThrows(
        GitHubConflictException.class,
        () -> client.generateJitConfig(new JitRequest("ubuntu-krun-1", 1, List.of("krun"))));
    assertThrows(
        GitHubNotFoundException.class,
        () -> client.generateJitConfig(new JitRequest("other", 42, List.of("krun"))));

    assertTrue(client.deleteRunner(runner.id()));
    assertFalse(client.deleteRunner(runner.id()));
    assertTrue(client.getRunner(runner.id()).isEmpty());
    assertEquals(1, sim.state().removedRunners());
  }

  @Test
  void listingCoversEveryPage() throws Exception {
    GitHubRunnerClient client = client("org", "octo");
    for (int i = 1; i <= 230; i++) {
      client.generateJitConfig(new JitRequest("runner-" + i, 1, List.of("krun")));
    }
    long before = sim.state().apiRequests();
    List<Runner> runners = client.listRunners();
    assertEquals(230, runners.size());
    assertEquals(3, sim.state().apiRequests() - before, "three pages of 100");
    assertEquals("runner-230", runners.get(229).name());
    assertEquals("runner-117", client.findRunnerByName("runner-117").orElseThrow().name());
  }

  @Test
  void runnerGroupsByName() throws Exception {
    long id = sim.addRunnerGroup("krun-pool");
    assertEquals(id, client("org", "octo").runnerGroupId("krun-pool"));
    assertEquals(1, client("enterprise", "big").runnerGroupId("Default"));
    assertEquals(1, client("repo", "octo/hello").runnerGroupId("Default"));
    assertThrows(GitHubNotFoundException.class, () -> client("org", "octo").runnerGroupId("nope"));
  }

  @Test
  void injectedRateLimitsAndServerErrorsAreRetried() throws Exception {
    GitHubRunnerClient client = client("repo", "octo/hello");
    sim.injectFault(Fault.secondaryRateLimit(2, Duration.ofSeconds(3)));
    client.createRegistrationToken();
    assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(3)), sleeper.sleeps);

    sleeper.sleeps.clear();
    sim.injectFault(Fault.primaryRateLimit(1, Duration.ofSeconds(30)));
    client.createRegistrationToken();
    assertEquals(1, sleeper.sleeps.size());
    assertTrue(
        sleeper.sleeps.get(0).toSeconds() >= 30 && sleeper.sleeps.get(0).toSeconds() <= 32,
        sleeper.sleeps.toString());

    sleeper.sleeps.clear();
    sim.injectFault(Fault.serverError(2, 502));
    client.createRegistrationToken();
    assertEquals(2, sleeper.sleeps.size());

    sim.injectFault(Fault.serverError(5, 500));
    assertThrows(GitHubUnavailableException.class, client::createRegistrationToken);
  }

  @Test
  void faultsCanBeInjectedOverHttp() throws Exception {
    HttpResponse<String> injected =
        raw(
            "POST",
            "/_sim/faults",
            null,
            "{\"kind\":\"server_error\",\"requests\":1,\"status\":503}");
    assertEquals(204, injected.statusCode());
    assertEquals(503, raw("GET", "/orgs/octo/actions/runners", "Bearer " + PAT, null).statusCode());
    assertEquals(200, raw("GET", "/orgs/octo/actions/runners", "Bearer " + PAT, null).statusCode());
    assertEquals(422, raw("POST", "/_sim/faults", null, "{\"kind\":\"meteor\"}").statusCode());

    String tooMany =
        "{\"kind\":\"secondary_rate_limit\",\"requests\":1,\"status\":429,\"retry_after_seconds\":2}";
    assertEquals(204, raw("POST", "/_sim/faults", null, tooMany).statusCode());
    HttpResponse<String> limited = raw("GET", "/orgs/octo/actions/runners", "Bearer " + PAT, null);
    assertEquals(429, limited.statusCode());
    assertEquals("2", limited.headers().firstValue("retry-after").orElseThrow());
    assertTrue(
        JSON.readTree(limited.body()).path("message").asText().contains("secondary rate limit"));
    assertEquals(204, raw("POST", "/_sim/faults", null, tooMany).statusCode());
    client("org", "octo").listRunners();
    assertEquals(List.of(Duration.ofSeconds(2)), sleeper.sleeps);
  }

  @Test
  void latencyMakesTheRequestTimeoutFire() throws Exception {
    sim.injectFault(Fault.latency(Duration.ofSeconds(2)));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(PAT)))
            .sleeper(sleeper)
            .requestTimeout(Duration.ofMillis(200))
            .retryPolicy(RetryPolicy.defaults().withMaxAttempts(2))
            .build();
    GitHubUnavailableException e =
        assertThrows(GitHubUnavailableException.class, client::createRegistrationToken);
    assertTrue(e.getMessage().contains("HttpTimeoutException"), e.getMessage());
    sim.clearFaults();
  }

  @Test
  void jobsAndStateOverTheControlEndpoints() throws Exception {
    HttpResponse<String> enqueued =
        raw(
            "POST",
            "/_sim/jobs",
            null,
            "[{\"name\":\"build\",\"labels\":[\"krun\"],\"duration_ms\":100},{\"name\":\"test\",\"labels\":[],\"duration_ms\":0}]");
    assertEquals(201, enqueued.statusCode());
    assertEquals(2, JSON.readTree(enqueued.body()).path("jobs").size());
    client("repo", "octo/hello").generateJitConfig(new JitRequest("r1", 1, List.of("krun")));
    JsonNode state = JSON.readTree(raw("GET", "/_sim/state", null, null).body());
    assertEquals(2, state.path("queued_jobs").asInt());
    assertEquals(0, state.path("running_jobs").asInt());
    assertEquals(0, state.path("finished_jobs").asInt());
    assertEquals("r1", state.path("runners").get(0).path("name").asText());
    assertEquals("offline", state.path("runners").get(0).path("status").asText());
    assertEquals("/repos/octo/hello", state.path("runners").get(0).path("scope").asText());
    assertEquals("queued", state.path("jobs").get(0).path("status").asText());
    assertTrue(state.path("jobs").get(0).path("runner_name").isNull());
    SimState snapshot = sim.state();
    assertEquals(2, snapshot.queuedJobs());
    assertEquals(422, raw("POST", "/_sim/jobs", null, "{\"labels\":[]}").statusCode());
  }

  @Test
  void githubAppsGetInstallationTokensFromTheSimulator(@TempDir Path dir) throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    sim.registerApp("4242", keys.getPublic());
    Credentials app =
        Credentials.app("4242", TestSupport.writePkcs1Pem(dir.resolve("app.pem"), keys));
    GitHubRunnerClient client = client("org", "octo", app);
    client.createRegistrationToken();
    client.generateJitConfig(new JitRequest("app-runner", 1, List.of("krun")));
    assertEquals("app-runner", client.listRunners().get(0).name());

    KeyPair other = TestSupport.rsaKeyPair();
    Credentials wrongKey =
        Credentials.app("4242", TestSupport.writePkcs8Pem(dir.resolve("other.pem"), other));
    GitHubAuthenticationException e =
        assertThrows(
            GitHubAuthenticationException.class,
            () -> client("org", "octo", wrongKey).createRegistrationToken());
    assertTrue(e.getMessage().contains("private key"), e.getMessage());
  }

  @Test
  void simulatorApiUrlIsLoopback() {
    assertEquals("127.0.0.1", URI.create(sim.apiUrl().toString()).getHost());
  }
}
