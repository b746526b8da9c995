package dev.microrunner.github.sim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.DemandReconciler;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JobDemand;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WebhookReceiver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reconciler against the simulator: what webhooks missed, it finds, within its budget. */
class DemandReconcilerTest {

  private static final String PAT = "ghp_reconcileSimToken000000000";
  private static final String SECRET = "reconcile-secret";
  private static final Set<String> RUNNER = Set.of("self-hosted", "Linux", "X64", "krun");
  private static final Duration PERIOD = DemandReconciler.Options.MIN_PERIOD;

  @TempDir Path dir;
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private GitHubRunnerClient client(GitHubSimulator simulator) {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(simulator.apiUrl().toString()),
            RunnerScope.of("repo", "octo/hello"),
            Credentials.pat(Secret.of(PAT)))
        .build();
  }

  private static SimJob job(String name) {
    return new SimJob(name, List.of("self-hosted", "krun"), Duration.ZERO);
  }

  @Test
  void aDroppedWebhookIsMadeUpForWithinOnePeriod() throws Exception {
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
      await().atMost(Duration.ofSeconds(3)).until(() -> receiver.counters().pings() == 1);
      sim.enqueueJob(job("delivered"));
      await().atMost(Duration.ofSeconds(3)).until(() -> demand.queuedFor(RUNNER) == 1);

      try (DemandReconciler reconciler =
          new DemandReconciler(
                  client(sim),
                  demand,
                  DemandReconciler.Options.defaults().withPeriod(PERIOD),
                  Clock.systemUTC())
              .start()) {
        await().atMost(Duration.ofSeconds(3)).until(() -> reconciler.lastPass().isPresent());
        Instant firstPass = Instant.now();

        sim.dropWebhookDeliveries(1);
        sim.enqueueJob(job("dropped"));
        await()
            .atMost(Duration.ofSeconds(3))
            .until(
                () ->
                    sim.webhookDeliveries().stream()
                        .anyMatch(d -> d.status() == SimWebhookDelivery.Status.FAILED));

        // The next pass, one period after the first, finds the job the webhook did not bring.
        await()
            .atMost(PERIOD.plusSeconds(1))
            .pollInterval(Duration.ofMillis(20))
            .until(() -> demand.queuedFor(RUNNER) == 2);
        assertTrue(
            Duration.between(firstPass, Instant.now()).compareTo(PERIOD.minusMillis(500)) > 0,
            "found by the periodic pass, not the first");
        assertEquals(1, receiver.counters().accepted(), "the dropped one never arrived");
      }
    }
  }

  @Test
  void aPassCountsQueuedJobsAndRunnersAndReplacesTheRepositorysDemand() throws Exception {
    JobDemand demand = new JobDemand();
    sim.enqueueJob(job("a"));
    sim.enqueueJob(job("b"));
    sim.enqueueJob(new SimJob("gpu", List.of("self-hosted", "gpu"), Duration.ZERO));
    GitHubRunnerClient client = client(sim);
    DemandReconciler reconciler =
        new DemandReconciler(
            client, demand, DemandReconciler.Options.defaults(), Clock.systemUTC());

    DemandReconciler.Pass pass = reconciler.reconcileOnce();
    assertEquals(3, pass.queuedJobs());
    assertTrue(pass.complete());
    assertEquals(3 + 3, pass.calls(), "runners, runs twice, then one run's jobs each");
    assertEquals(2, demand.queuedFor(RUNNER));

    // A runner takes one: the next pass sees it busy and the job gone.
    var runner =
        InProcessRunner.start(
            client, "krun-1", List.of("self-hosted", "krun"), dir.resolve("runner"));
    assertEquals(0, runner.get(10, TimeUnit.SECONDS));
    reconciler.reconcileOnce();
    assertEquals(1, demand.queuedFor(RUNNER));
    reconciler.close();
  }

  @Test
  void aPassStopsAtItsCallBudgetAndThenRemovesNothing() throws Exception {
    JobDemand demand = new JobDemand();
    for (int i = 0; i < 5; i++) {
      sim.enqueueJob(job("j" + i));
    }
    DemandReconciler reconciler =
        new DemandReconciler(
            client(sim),
            demand,
            DemandReconciler.Options.defaults().withMaxCallsPerPeriod(5),
            Clock.systemUTC());

    DemandReconciler.Pass pass = reconciler.reconcileOnce();
    assertFalse(pass.complete());
    assertEquals(5, pass.calls());
    assertEquals(2, demand.queuedFor(RUNNER), "two runs' jobs looked at");
    reconciler.close();
  }

  @Test
  void aLowRateLimitStretchesThePeriodUntilTheWindowResets() throws Exception {
    try (GitHubSimulator limited =
        GitHubSimulator.start(SimulatorOptions.defaults().withRateLimits(20, 60))) {
      limited.acceptToken(PAT);
      limited.addRepository("octo/hello");
      DemandReconciler reconciler =
          new DemandReconciler(
              client(limited),
              new JobDemand(),
              DemandReconciler.Options.defaults(),
              Clock.systemUTC());

      Instant before = Instant.now();
      DemandReconciler.Pass first = reconciler.reconcileOnce();
      assertTrue(
          first.nextPass().isBefore(before.plusSeconds(31)), "17 of 20 left: the usual period");
      DemandReconciler.Pass pass = first;
      for (int i = 0; i < 5; i++) {
        pass = reconciler.reconcileOnce();
      }
      // 18 of 20 used: 2 left, fewer than one pass needs; wait for the window (an hour).
      assertTrue(
          pass.nextPass().isAfter(Instant.now().plus(Duration.ofMinutes(50))),
          "next pass " + pass.nextPass());
      reconciler.close();
    }
  }

  @Test
  void onlyARepositoryHasWorkflowRunsAndTheOptionsAreBounded() {
    GitHubRunnerClient org =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("org", "octo"),
                Credentials.pat(Secret.of(PAT)))
            .build();
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new DemandReconciler(
                org, new JobDemand(), DemandReconciler.Options.defaults(), Clock.systemUTC()));
    assertThrows(
        IllegalArgumentException.class,
        () -> DemandReconciler.Options.defaults().withPeriod(Duration.ofMillis(500)));
    assertThrows(
        IllegalArgumentException.class,
        () -> DemandReconciler.Options.defaults().withMaxCallsPerPeriod(2));
  }
}
