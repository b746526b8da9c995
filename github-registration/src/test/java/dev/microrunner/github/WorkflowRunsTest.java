package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The workflow run calls that tell which jobs wait for a runner, against the recording server. The
 * replies follow GitHub's REST API reference (API version 2022-11-28): "List workflow runs for a
 * repository" ({@code GET /repos/{owner}/{repo}/actions/runs}, {@code {total_count,
 * workflow_runs}}) and "List jobs for a workflow run" ({@code GET
 * /repos/{owner}/{repo}/actions/runs/{run_id}/jobs}, {@code {total_count, jobs}}, a job's {@code
 * runner_id} and {@code runner_name} null while it is queued).
 */
class WorkflowRunsTest {

  private static final String TOKEN = "ghp_workflowRunsToken0123456789";

  private RecordingGitHub github;
  private final TestSupport.MutableClock clock =
      new TestSupport.MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @BeforeEach
  void start() throws Exception {
    github = new RecordingGitHub();
  }

  @AfterEach
  void stop() {
    github.close();
  }

  private GitHubRunnerClient client(String scope, String principal) {
    return GitHubRunnerClient.builder(
            github.target(), RunnerScope.of(scope, principal), Credentials.pat(Secret.of(TOKEN)))
        .clock(clock)
        .sleeper(new TestSupport.RecordingSleeper(clock))
        .build();
  }

  private static String run(long id, String status, String conclusion) {
    return "{\"id\":"
        + id
        + ",\"name\":\"CI\",\"node_id\":\"WFR_"
        + id
        + "\",\"head_branch\":\"main\",\"head_sha\":\"3484a3fb\",\"path\":\".github/workflows/ci.yml\","
        + "\"run_number\":12,\"event\":\"push\",\"status\":\""
        + status
        + "\",\"conclusion\":"
        + (conclusion == null ? "null" : "\"" + conclusion + "\"")
        + ",\"workflow_id\":159038,\"run_attempt\":1}";
  }

  @Test
  void queuedRunsAreListedWithTheStatusFilterOverEveryPage() throws Exception {
    String base = "/repos/octo/hello/actions/runs";
    github
        .expect(
            "GET",
            base + "?status=queued&per_page=100",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of(
                    "Link",
                    "<"
                        + github.url()
                        + base
                        + "?status=queued&per_page=100&page=2>; rel=\"next\""),
                "{\"total_count\":2,\"workflow_runs\":[" + run(30433642, "queued", null) + "]}"))
        .expect(
            "GET",
            base + "?status=queued&per_page=100&page=2",
            TOKEN,
            null,
            200,
            "{\"total_count\":2,\"workflow_runs\":[" + run(30433643, "queued", null) + "]}")
        .expect(
            "GET",
            base + "?status=completed&per_page=100",
            TOKEN,
            null,
            200,
            "{\"total_count\":1,\"workflow_runs\":[" + run(7, "completed", "success") + "]}");
    GitHubRunnerClient client = client("repo", "octo/hello");
    List<WorkflowRun> runs = client.listWorkflowRuns("queued");
    assertEquals(
        List.of(
            new WorkflowRun(30433642, "CI", "queued", Optional.empty()),
            new WorkflowRun(30433643, "CI", "queued", Optional.empty())),
        runs);
    assertEquals(Optional.of("success"), client.listWorkflowRuns("completed").get(0).conclusion());
    github.assertAllMet();
  }

  @Test
  void jobsOfARunCarryTheirLabelsAndTheirRunnerOnceTaken() throws Exception {
    String jobs =
        "{\"total_count\":2,\"jobs\":["
            + "{\"id\":399444496,\"run_id\":29679449,\"run_attempt\":1,\"node_id\":\"MDEyOldvcmtmbG93\","
            + "\"head_sha\":\"f83a356\",\"url\":\"https://api.github.com/repos/octo/hello/actions/jobs/399444496\","
            + "\"status\":\"queued\",\"conclusion\":null,\"created_at\":\"2026-01-01T00:00:00Z\","
            + "\"started_at\":\"2026-01-01T00:00:00Z\",\"completed_at\":null,\"name\":\"build\",\"steps\":[],"
            + "\"labels\":[\"self-hosted\",\"krun\"],\"runner_id\":null,\"runner_name\":null,"
            + "\"runner_group_id\":null,\"runner_group_name\":null,\"workflow_name\":\"CI\",\"head_branch\":\"main\"},"
            + "{\"id\":399444497,\"run_id\":29679449,\"status\":\"in_progress\",\"conclusion\":null,"
            + "\"name\":\"test\",\"labels\":[\"self-hosted\"],\"runner_id\":23,\"runner_name\":\"krun-1-abc\","
            + "\"runner_group_id\":1,\"runner_group_name\":\"Default\"}]}";
    github.expect(
        "GET", "/repos/octo/hello/actions/runs/29679449/jobs?per_page=100", TOKEN, null, 200, jobs);
    List<WorkflowJob> listed = client("repo", "octo/hello").listWorkflowRunJobs(29679449);
    assertEquals(
        new WorkflowJob(
            399444496,
            29679449,
            "build",
            "queued",
            List.of("self-hosted", "krun"),
            Optional.empty(),
            Optional.empty()),
        listed.get(0));
    assertTrue(listed.get(0).queued());
    assertEquals(Optional.of(23L), listed.get(1).runnerId());
    assertEquals(Optional.of("krun-1-abc"), listed.get(1).runnerName());
    github.assertAllMet();
  }

  @Test
  void organizationsAndEnterprisesHaveNoWorkflowRunsToList() {
    UnsupportedOperationException org =
        assertThrows(
            UnsupportedOperationException.class,
            () -> client("org", "octo").listWorkflowRuns("queued"));
    assertTrue(org.getMessage().contains("per repository"), org.getMessage());
    assertThrows(
        UnsupportedOperationException.class,
        () -> client("enterprise", "big").listWorkflowRunJobs(1));
    assertTrue(github.seen().isEmpty());
  }

  @Test
  void anUnknownStatusIsRefusedBeforeAnyRequest() {
    assertThrows(
        IllegalArgumentException.class,
        () -> client("repo", "octo/hello").listWorkflowRuns("running"));
    assertTrue(github.seen().isEmpty());
  }

  @Test
  void forbiddenSaysTheActionsPermissionIsMissing() {
    github.expect(
        "GET",
        "/repos/octo/hello/actions/runs?status=queued&per_page=100",
        TOKEN,
        null,
        403,
        "{\"message\":\"Resource not accessible by personal access token\"}");
    GitHubPermissionException refused =
        assertThrows(
            GitHubPermissionException.class,
            () -> client("repo", "octo/hello").listWorkflowRuns("queued"));
    assertTrue(refused.getMessage().contains("\"Actions: read\""), refused.getMessage());
    github.assertAllMet();
  }

  @Test
  void theRateLimitIsTheLatestAnswers() throws Exception {
    String path = "/repos/octo/hello/actions/runs?status=queued&per_page=100";
    String empty = "{\"total_count\":0,\"workflow_runs\":[]}";
    github
        .expect(
            "GET",
            path,
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of(
                    "x-ratelimit-limit", "5000",
                    "x-ratelimit-remaining", "4999",
                    "x-ratelimit-reset", "1767229200",
                    "x-ratelimit-resource", "core"),
                empty))
        .expect(
            "GET",
            path,
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of(
                    "x-ratelimit-limit", "5000",
                    "x-ratelimit-remaining", "400",
                    "x-ratelimit-reset", "1767229200"),
                empty))
        .expect("GET", path, TOKEN, null, 200, empty);
    GitHubRunnerClient client = client("repo", "octo/hello");
    assertTrue(client.rateLimit().isEmpty());
    client.listWorkflowRuns("queued");
    assertEquals(
        new RateLimitStatus(5000, 4999, Instant.ofEpochSecond(1767229200), "core"),
        client.rateLimit().orElseThrow());
    client.listWorkflowRuns("queued");
    RateLimitStatus low = client.rateLimit().orElseThrow();
    assertEquals(400, low.remaining());
    assertTrue(low.below(0.1));
    // An answer without the headers leaves the last known window.
    client.listWorkflowRuns("queued");
    assertEquals(400, client.rateLimit().orElseThrow().remaining());
    github.assertAllMet();
  }
}
