package dev.microrunner.github.sim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JobDemand;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.github.WorkflowJobEvent;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator's webhooks as a receiver sees them: GitHub's headers and signature, payloads with
 * the fields GitHub's webhook schema requires, and deliveries that drive a real {@link
 * WebhookReceiver} and {@link JobDemand} as a runner takes and finishes jobs.
 */
class WebhooksTest {

  private static final String PAT = "ghp_webhooksSimToken0000000000";
  private static final String SECRET = "It's a Secret to Everybody";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> KRUN_RUNNER = Set.of("self-hosted", "Linux", "X64", "krun");

  /**
   * Required fields, from {@code @octokit/openapi-webhooks} 12.1.0, {@code
   * generated/api.github.com.json}, {@code components.schemas}: {@code webhook-workflow-job-queued}
   * (and {@code -in-progress}, {@code -completed}: the same lists) for the event and its {@code
   * workflow_job}, {@code simple-user} for {@code sender}, {@code repository-webhooks} for {@code
   * repository}, {@code organization-simple-webhooks} for {@code organization}, {@code
   * webhook-ping} and its {@code hook}.
   */
  private static final List<String> EVENT_REQUIRED =
      List.of("action", "repository", "sender", "workflow_job");

  private static final List<String> WORKFLOW_JOB_REQUIRED =
      List.of(
          "id",
          "run_id",
          "run_url",
          "run_attempt",
          "node_id",
          "head_sha",
          "url",
          "html_url",
          "status",
          "conclusion",
          "started_at",
          "completed_at",
          "name",
          "steps",
          "check_run_url",
          "labels",
          "runner_id",
          "runner_name",
          "runner_group_id",
          "runner_group_name",
          "workflow_name",
          "head_branch",
          "created_at");

  private static final List<String> SIMPLE_USER_REQUIRED =
      List.of(
          "avatar_url",
          "events_url",
          "followers_url",
          "following_url",
          "gists_url",
          "gravatar_id",
          "html_url",
          "id",
          "node_id",
          "login",
          "organizations_url",
          "received_events_url",
          "repos_url",
          "site_admin",
          "starred_url",
          "subscriptions_url",
          "type",
          "url");

  private static final List<String> REPOSITORY_REQUIRED =
      List.of(
          "archive_url",
          "assignees_url",
          "blobs_url",
          "branches_url",
          "collaborators_url",
          "comments_url",
          "commits_url",
          "compare_url",
          "contents_url",
          "contributors_url",
          "deployments_url",
          "description",
          "downloads_url",
          "events_url",
          "fork",
          "forks_url",
          "full_name",
          "git_commits_url",
          "git_refs_url",
          "git_tags_url",
          "hooks_url",
          "html_url",
          "id",
          "node_id",
          "issue_comment_url",
          "issue_events_url",
          "issues_url",
          "keys_url",
          "labels_url",
          "languages_url",
          "merges_url",
          "milestones_url",
          "name",
          "notifications_url",
          "owner",
          "private",
          "pulls_url",
          "releases_url",
          "stargazers_url",
          "statuses_url",
          "subscribers_url",
          "subscription_url",
          "tags_url",
          "teams_url",
          "trees_url",
          "url",
          "clone_url",
          "default_branch",
          "forks",
          "forks_count",
          "git_url",
          "has_downloads",
          "has_issues",
          "has_projects",
          "has_wiki",
          "has_pages",
          "homepage",
          "language",
          "archived",
          "disabled",
          "mirror_url",
          "open_issues",
          "open_issues_count",
          "license",
          "pushed_at",
          "size",
          "ssh_url",
          "stargazers_count",
          "svn_url",
          "watchers",
          "watchers_count",
          "created_at",
          "updated_at");

  private static final List<String> ORGANIZATION_REQUIRED =
      List.of(
          "login",
          "url",
          "id",
          "node_id",
          "repos_url",
          "events_url",
          "hooks_url",
          "issues_url",
          "members_url",
          "public_members_url",
          "avatar_url",
          "description");

  private static final List<String> PING_HOOK_REQUIRED =
      List.of("id", "type", "name", "active", "events", "config", "created_at", "updated_at");

  /** One request as the test's bare HTTP server received it. */
  private record Seen(Headers headers, String body) {
    JsonNode json() throws Exception {
      return JSON.readTree(body);
    }

    String header(String name) {
      return headers.getFirst(name);
    }
  }

  @TempDir Path dir;
  private GitHubSimulator sim;
  private HttpServer capture;
  private final List<Seen> seen = new CopyOnWriteArrayList<>();

  /** What the capturing server answers. */
  private final AtomicInteger captureStatus = new AtomicInteger(200);

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    capture = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    capture.createContext(
        "/",
        exchange -> {
          try (exchange;
              InputStream in = exchange.getRequestBody()) {
            seen.add(
                new Seen(
                    exchange.getRequestHeaders(),
                    new String(in.readAllBytes(), StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(captureStatus.get(), -1);
          }
        });
    capture.start();
  }

  @AfterEach
  void stop() {
    sim.close();
    capture.stop(0);
  }

  private URI captureUrl() {
    return URI.create("http://127.0.0.1:" + capture.getAddress().getPort() + "/hook");
  }

  private GitHubRunnerClient client() {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(sim.apiUrl().toString()),
            RunnerScope.of("repo", "octo/hello"),
            Credentials.pat(Secret.of(PAT)))
        .build();
  }

  private static String hmac(byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return HexFormat.of().formatHex(mac.doFinal(body));
  }

  private static void assertHas(JsonNode node, List<String> fields, String what) {
    for (String field : fields) {
      assertTrue(node.has(field), what + " lacks " + field + ": " + node);
    }
  }

  private List<Seen> events(String event) {
    return seen.stream().filter(s -> event.equals(s.header("X-GitHub-Event"))).toList();
  }

  @Test
  void aNewWebhookIsPingedThenToldOfEveryJobWithGitHubsHeadersAndSignature() throws Exception {
    long hookId = sim.addWebhook(new SimWebhook(captureUrl(), SECRET));
    await().atMost(Duration.ofSeconds(3)).until(() -> events("ping").size() == 1);
    Seen ping = events("ping").get(0);
    assertEquals(String.valueOf(hookId), ping.header("X-GitHub-Hook-ID"));
    assertHas(ping.json().path("hook"), PING_HOOK_REQUIRED, "ping hook");
    assertEquals(hookId, ping.json().path("hook_id").asLong());

    sim.enqueueJob(new SimJob("build", List.of("self-hosted", "krun"), Duration.ZERO));
    await().atMost(Duration.ofSeconds(3)).until(() -> events("workflow_job").size() == 1);
    Seen queued = events("workflow_job").get(0);

    UUID.fromString(queued.header("X-GitHub-Delivery"));
    assertEquals(String.valueOf(hookId), queued.header("X-GitHub-Hook-ID"));
    assertEquals("application/json", queued.header("Content-Type"));
    assertTrue(queued.header("User-Agent").startsWith("GitHub-Hookshot/"));
    assertEquals(
        "sha256=" + hmac(queued.body().getBytes(StandardCharsets.UTF_8)),
        queued.header("X-Hub-Signature-256"));
    assertEquals("repository", queued.header("X-GitHub-Hook-Installation-Target-Type"));

    JsonNode payload = queued.json();
    assertHas(payload, EVENT_REQUIRED, "workflow_job event");
    assertHas(payload.path("workflow_job"), WORKFLOW_JOB_REQUIRED, "workflow_job");
    assertHas(payload.path("sender"), SIMPLE_USER_REQUIRED, "sender");
    assertHas(payload.path("repository"), REPOSITORY_REQUIRED, "repository");
    assertHas(payload.path("repository").path("owner"), SIMPLE_USER_REQUIRED, "owner");
    assertEquals("queued", payload.path("action").asText());
    assertEquals("queued", payload.path("workflow_job").path("status").asText());
    assertTrue(payload.path("workflow_job").path("conclusion").isNull());
    assertTrue(payload.path("workflow_job").path("runner_name").isNull());
    assertEquals("octo/hello", payload.path("repository").path("full_name").asText());
    assertFalse(payload.has("organization"), "octo is not a declared organization");
    assertEquals(
        List.of("self-hosted", "krun"),
        JSON.convertValue(payload.path("workflow_job").path("labels"), List.class));
  }

  @Test
  void anOrganizationsRepositoryCarriesTheOrganization() throws Exception {
    sim.addOrganization("octo");
    sim.addWebhook(new SimWebhook(captureUrl(), SECRET));
    sim.enqueueJob(new SimJob("build", List.of("self-hosted"), Duration.ZERO));
    await().atMost(Duration.ofSeconds(3)).until(() -> events("workflow_job").size() == 1);
    JsonNode payload = events("workflow_job").get(0).json();
    assertHas(payload.path("organization"), ORGANIZATION_REQUIRED, "organization");
    assertEquals("octo", payload.path("organization").path("login").asText());
    assertEquals("Organization", payload.path("repository").path("owner").path("type").asText());
  }

  @Test
  void aRunnerTakingAndFinishingAJobDrivesAReceiverAndTheDemand() throws Exception {
    JobDemand demand = new JobDemand();
    List<WorkflowJobEvent> received = new CopyOnWriteArrayList<>();
    try (WebhookReceiver receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.of(SECRET),
            event -> {
              received.add(event);
              demand.apply(event);
            },
            WebhookReceiver.Options.defaults())) {
      sim.addWebhook(
          new SimWebhook(
              URI.create("http://127.0.0.1:" + receiver.address().getPort() + "/webhook"), SECRET));
      sim.enqueueJob(new SimJob("build", List.of("self-hosted", "krun"), Duration.ofMillis(300)));
      sim.enqueueJob(new SimJob("train", List.of("self-hosted", "gpu"), Duration.ZERO));
      await().atMost(Duration.ofSeconds(3)).until(() -> demand.queued().size() == 2);
      assertEquals(1, demand.queuedFor(KRUN_RUNNER), "the gpu job is not for this runner");

      var runner =
          InProcessRunner.start(
              client(), "krun-1", List.of("self-hosted", "krun"), dir.resolve("r"));
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> received.stream().anyMatch(e -> e.action().equals("in_progress")));
      assertEquals(0, demand.queuedFor(KRUN_RUNNER));
      WorkflowJobEvent taken =
          received.stream().filter(e -> e.action().equals("in_progress")).findFirst().get();
      assertEquals(java.util.Optional.of("krun-1"), taken.runnerName());

      assertEquals(0, runner.get(10, TimeUnit.SECONDS));
      await()
          .atMost(Duration.ofSeconds(3))
          .until(() -> received.stream().anyMatch(e -> e.action().equals("completed")));
      assertEquals(
          List.of("queued", "queued", "in_progress", "completed"),
          received.stream().map(WorkflowJobEvent::action).toList());
      assertEquals(1, demand.queued().size(), "the gpu job still waits");
      WebhookReceiver.Counters counters = receiver.counters();
      assertEquals(4, counters.accepted());
      assertEquals(1, counters.pings());
      assertEquals(0, counters.refused());
    }
  }

  @Test
  void twoHundredQueuedJobsArriveAndAreCountedExactly() throws Exception {
    JobDemand demand = new JobDemand();
    try (WebhookReceiver receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.of(SECRET),
            demand::apply,
            WebhookReceiver.Options.defaults())) {
      sim.addWebhook(
          new SimWebhook(
              URI.create("http://127.0.0.1:" + receiver.address().getPort() + "/webhook"), SECRET));
      List<SimJob> jobs = new java.util.ArrayList<>();
      for (int i = 0; i < 200; i++) {
        jobs.add(new SimJob("job-" + i, List.of("self-hosted", "krun"), Duration.ZERO));
      }
      jobs.forEach(sim::enqueueJob);
      await().atMost(Duration.ofSeconds(4)).until(() -> receiver.counters().accepted() == 200);
      assertEquals(200, demand.queuedFor(KRUN_RUNNER));
      assertEquals(0, receiver.counters().refused());
      // The receiver counts a delivery before its answer reaches the simulator.
      await()
          .atMost(Duration.ofSeconds(4))
          .until(
              () ->
                  sim.webhookDeliveries().stream()
                      .allMatch(d -> d.status() == SimWebhookDelivery.Status.DELIVERED));
    }
  }

  @Test
  void aFailedDeliveryIsNotRetriedUnlessAsked() throws Exception {
    captureStatus.set(500);
    sim.addWebhook(new SimWebhook(captureUrl(), SECRET));
    await()
        .atMost(Duration.ofSeconds(3))
        .until(
            () ->
                sim.webhookDeliveries().size() == 1
                    && sim.webhookDeliveries().get(0).status() == SimWebhookDelivery.Status.FAILED);
    SimWebhookDelivery failed = sim.webhookDeliveries().get(0);
    assertEquals(1, failed.attempts(), "GitHub does not retry");
    assertEquals(java.util.Optional.of(500), failed.responseStatus());
    assertEquals(1, seen.size());

    seen.clear();
    sim.addWebhook(new SimWebhook(captureUrl(), SECRET).withRetries(3, Duration.ofMillis(10)));
    await().atMost(Duration.ofSeconds(3)).until(() -> seen.size() == 3);
    assertEquals(1, seen.stream().map(s -> s.header("X-GitHub-Delivery")).distinct().count());
  }

  @Test
  void webhooksAreAddedThroughTheControlEndpointAndTheSecretIsNeverShown() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String body =
        JSON.writeValueAsString(java.util.Map.of("url", captureUrl().toString(), "secret", SECRET));
    HttpResponse<String> added =
        http.send(
            HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/_sim/webhooks"))
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, added.statusCode(), added.body());
    assertTrue(JSON.readTree(added.body()).path("id").asLong() > 0);
    await().atMost(Duration.ofSeconds(3)).until(() -> events("ping").size() == 1);

    HttpResponse<String> deliveries =
        http.send(
            HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/_sim/webhook-deliveries")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, deliveries.statusCode());
    assertEquals("ping", JSON.readTree(deliveries.body()).get(0).path("event").asText());
    assertFalse(deliveries.body().contains(SECRET));
    assertFalse(new SimWebhook(captureUrl(), SECRET).toString().contains(SECRET));
    assertEquals(
        "http://127.0.0.1:8080/hook",
        new SimWebhook(URI.create("http://user:pw@127.0.0.1:8080/hook?token=t"), SECRET)
            .shownUrl());
    assertFalse(
        SimulatorOptions.defaults()
            .withWebhook(new SimWebhook(captureUrl(), SECRET))
            .toString()
            .contains(SECRET));

    HttpResponse<String> bad =
        http.send(
            HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/_sim/webhooks"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"url\":\"ftp://x\",\"secret\":\"s\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(422, bad.statusCode());
  }

  @Test
  void aWebhookInTheOptionsIsPingedAtStart() throws Exception {
    try (GitHubSimulator withHook =
        GitHubSimulator.start(
            SimulatorOptions.defaults().withWebhook(new SimWebhook(captureUrl(), SECRET)))) {
      await().atMost(Duration.ofSeconds(3)).until(() -> events("ping").size() == 1);
      assertEquals(1, withHook.webhookDeliveries().size());
    }
  }
}
