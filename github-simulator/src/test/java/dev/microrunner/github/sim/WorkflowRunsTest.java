package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WorkflowJob;
import dev.microrunner.github.WorkflowRun;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workflow run endpoints with the real client: each simulated job is the one job of a run of
 * its repository, listed by status, with its labels, and its runner once taken.
 */
class WorkflowRunsTest {

  private static final String PAT = "ghp_workflowRunsSimToken000000";

  @TempDir Path dir;
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    sim.addRepository("octo/other");
    sim.addOrganization("octo");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private GitHubRunnerClient client(String scope, String principal) {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(sim.apiUrl().toString()),
            RunnerScope.of(scope, principal),
            Credentials.pat(Secret.of(PAT)))
        .build();
  }

  @Test
  void queuedJobsAreTheQueuedRunsJobsWithTheirLabels() throws Exception {
    sim.enqueueJob(new SimJob("build", List.of("self-hosted", "krun"), Duration.ZERO));
    sim.enqueueJob(new SimJob("lint", List.of("ubuntu-latest"), Duration.ZERO));
    sim.enqueueJob(
        new SimJob("elsewhere", List.of("self-hosted"), Duration.ZERO)
            .withRepository("octo/other"));
    GitHubRunnerClient hello = client("repo", "octo/hello");

    List<WorkflowRun> queued = hello.listWorkflowRuns("queued");
    assertEquals(2, queued.size(), "the first declared repository's jobs: " + queued);
    assertTrue(queued.get(0).id() > queued.get(1).id(), "newest first");
    assertTrue(hello.listWorkflowRuns("in_progress").isEmpty());
    List<WorkflowJob> jobs = hello.listWorkflowRunJobs(queued.get(1).id());
    assertEquals(1, jobs.size());
    WorkflowJob build = jobs.get(0);
    assertEquals("build", build.name());
    assertEquals(queued.get(1).id(), build.runId());
    assertTrue(build.queued());
    assertEquals(List.of("self-hosted", "krun"), build.labels());
    assertEquals(Optional.empty(), build.runnerName());

    assertEquals(1, client("repo", "octo/other").listWorkflowRuns("queued").size());
    // A run of another repository is not found through this one.
    long otherRun = client("repo", "octo/other").listWorkflowRuns("queued").get(0).id();
    assertThrows(GitHubNotFoundException.class, () -> hello.listWorkflowRunJobs(otherRun));
  }

  @Test
  void aTakenJobIsInProgressWithItsRunnerThenCompletedWithItsConclusion() throws Exception {
    // Long enough to look at it while it runs, on a loaded machine too.
    sim.enqueueJob(new SimJob("build", List.of("self-hosted", "krun"), Duration.ofMillis(1500)));
    GitHubRunnerClient hello = client("repo", "octo/hello");
    long run = hello.listWorkflowRuns("queued").get(0).id();

    var runner =
        InProcessRunner.start(hello, "krun-1", List.of("self-hosted", "krun"), dir.resolve("r"));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> hello.listWorkflowRunJobs(run).get(0).status().equals("in_progress"));
    WorkflowJob taken = hello.listWorkflowRunJobs(run).get(0);
    assertEquals(Optional.of("krun-1"), taken.runnerName());
    assertTrue(taken.runnerId().isPresent());
    assertEquals(
        List.of(run), hello.listWorkflowRuns("in_progress").stream().map(WorkflowRun::id).toList());

    assertEquals(0, runner.get(10, TimeUnit.SECONDS));
    assertEquals("completed", hello.listWorkflowRunJobs(run).get(0).status());
    WorkflowRun done = hello.listWorkflowRuns("completed").get(0);
    assertEquals(Optional.of("success"), done.conclusion());
    assertEquals(1, hello.listWorkflowRuns("success").size(), "a conclusion filters too");
    assertTrue(hello.listWorkflowRuns("queued").isEmpty());
  }

  @Test
  void organizationsHaveNoWorkflowRuns() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/orgs/octo/actions/runs"))
                    .header("Authorization", "Bearer " + PAT)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(404, response.statusCode());
  }

  @Test
  void aJobOfAnUndeclaredRepositoryIsRefused() throws Exception {
    SimJob job = new SimJob("x", List.of("self-hosted"), Duration.ZERO).withRepository("nope/nope");
    assertThrows(IllegalArgumentException.class, () -> sim.enqueueJob(job));
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sim.apiUrl() + "/_sim/jobs"))
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"name\":\"x\",\"labels\":[\"a\"],\"repository\":\"nope/nope\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(422, response.statusCode(), response.body());
    assertEquals(0, sim.state().jobs().size());
  }
}
