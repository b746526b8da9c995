package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimWebhook;
import dev.microrunner.github.sim.SimWebhookDelivery;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A demand-driven pool as a real process: the simulator's signed workflow_job webhooks reach the
 * orchestrator's receiver, the pool grows for a burst up to max and shrinks to min-idle; forged
 * deliveries are refused and change nothing; a lost webhook is made up for by polling.
 */
class DemandScalingIT {

  private static final String WEBHOOK_SECRET = "whs-" + "DemandScalingItSecret0123456789";

  @TempDir Path work;
  private CliProcess cli;
  private Process orchestrator;
  private int webhookPort;
  private int metricsPort;
  private Path secretFile;
  private final AtomicLong mostOnline = new AtomicLong();

  @BeforeEach
  void start() throws Exception {
    cli = new CliProcess(work);
    try (ServerSocket free = new ServerSocket(0);
        ServerSocket other = new ServerSocket(0)) {
      webhookPort = free.getLocalPort();
      metricsPort = other.getLocalPort();
    }
    secretFile = work.resolve("webhook-secret");
    Files.writeString(secretFile, WEBHOOK_SECRET + "\n");
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));
  }

  @AfterEach
  void stop() {
    if (orchestrator != null) {
      orchestrator.descendants().forEach(ProcessHandle::destroyForcibly);
      orchestrator.destroyForcibly();
    }
    cli.sim.close();
  }

  private Process orchestrator(int poll, int minIdle) throws Exception {
    Path config = work.resolve("fleet.yaml");
    Files.writeString(
        config,
        """
        orchestrator:
          prefix: scaleit
          runtime: process
          parallel-start: 4
          state-dir: %s
          base-dir: %s
          webhook: 127.0.0.1:%d
          webhook-secret-file: %s
          poll: %d
          metrics: 127.0.0.1:%d
        defaults:
          github: %s
          token-env: RUNNER_PAT
          entrypoint: %s
          grace: 10
          env:
            RUNNER_INSTALL: %s
            MICRORUNNER_JAVA: %s
        pools:
          - name: auto
            principal: octo/hello
            labels: [self-hosted, auto]
            name-prefix: auto
            min-idle: %d
            max: 3
            idle-timeout: 2
        """
            .formatted(
                work.resolve("state"),
                work.resolve("base"),
                webhookPort,
                secretFile,
                poll,
                metricsPort,
                cli.sim.apiUrl(),
                cli.jar.resolveSibling("agent"),
                cli.distribution,
                CliProcess.java(),
                minIdle));
    return cli.start(
        List.of(
            "orchestrator", "--config", config.toString(), "-l", work.resolve("o.log").toString()),
        Map.of("RUNNER_PAT", CliProcess.PAT),
        "o.out");
  }

  private long online() {
    long online =
        cli.sim.state().runners().stream().filter(r -> r.status().equals("online")).count();
    mostOnline.accumulateAndGet(online, Math::max);
    return online;
  }

  /** Jobs long enough that the runners of a pool at max overlap, however slow their start. */
  private void burst(int jobs) {
    for (int i = 1; i <= jobs; i++) {
      cli.sim.enqueueJob(new SimJob("burst-" + i, List.of("self-hosted", "auto"), ms(4000)));
    }
  }

  private HttpResponse<String> deliver(Map<String, String> headers, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webhookPort + "/webhook"))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void webhooksGrowThePoolToMaxAndItShrinksBackWhileForgedDeliveriesChangeNothing()
      throws Exception {
    orchestrator = orchestrator(0, 1);
    await().atMost(Duration.ofSeconds(60)).until(() -> online() == 1 || !orchestrator.isAlive());
    assertTrue(orchestrator.isAlive(), this::output);
    cli.sim.addWebhook(
        new SimWebhook(URI.create("http://127.0.0.1:" + webhookPort + "/webhook"), WEBHOOK_SECRET));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                cli.sim.webhookDeliveries().stream()
                    .anyMatch(
                        d ->
                            d.event().equals("ping")
                                && d.responseStatus().equals(Optional.of(204))));

    // Unsigned and wrongly signed "queued" jobs: refused, and no VM starts for them.
    String forged =
        """
        {"action":"queued","workflow_job":{"id":999,"run_id":999,"labels":["self-hosted","auto"],
        "status":"queued"},"repository":{"full_name":"octo/hello"}}""";
    assertEquals(
        401,
        deliver(Map.of("X-GitHub-Event", "workflow_job", "X-GitHub-Delivery", "f-1"), forged)
            .statusCode());
    assertEquals(
        401,
        deliver(
                Map.of(
                    "X-GitHub-Event", "workflow_job",
                    "X-GitHub-Delivery", "f-2",
                    "X-Hub-Signature-256", "sha256=" + "0".repeat(64)),
                forged)
            .statusCode());
    long startsBefore = loopStarts();
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(4))
        .until(() -> loopStarts() == startsBefore && online() == 1);

    burst(6);
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(100))
        // online() also records the most runners online at once.
        .until(() -> online() >= 0 && cli.sim.state().finishedJobs() == 6);
    assertEquals(3, mostOnline.get(), "grew to max for the burst, never above");
    await().atMost(Duration.ofSeconds(60)).until(() -> online() == 1);

    String metrics = scrape();
    assertTrue(
        metrics.contains("microrunner_webhook_deliveries_total{host=")
            && metrics.matches("(?s).*result=\"bad_signature\"} 2\\.0\n.*")
            && metrics.matches("(?s).*result=\"ping\"} 1\\.0\n.*"),
        metrics);
    assertTrue(
        metrics.matches("(?s).*microrunner_pool_max_vms\\{[^}]*pool=\"auto\"[^}]*} 3\\.0\n.*"),
        metrics);
    assertTrue(metrics.contains("microrunner_pool_queued_jobs{"), metrics);
    assertTrue(!metrics.contains(WEBHOOK_SECRET));

    orchestrator.destroy();
    assertTrue(orchestrator.waitFor(60, TimeUnit.SECONDS), "not ended after SIGTERM");
    assertEquals(0, orchestrator.exitValue(), this::output);
    assertEquals(List.of(), cli.sim.state().runners(), "registrations left behind");
    assertTrue(!cli.read("o.log").contains(WEBHOOK_SECRET), "webhook secret in the log");
  }

  @Test
  void jobsWhoseWebhooksWereLostAreFoundByPolling() throws Exception {
    // No idle runner: only what the pool learns of the jobs starts VMs.
    orchestrator = orchestrator(2, 0);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> cli.read("o.log").contains("Webhooks at") || !orchestrator.isAlive());
    assertTrue(orchestrator.isAlive(), this::output);
    cli.sim.addWebhook(
        new SimWebhook(URI.create("http://127.0.0.1:" + webhookPort + "/webhook"), WEBHOOK_SECRET));
    cli.sim.dropWebhookDeliveries(100);

    burst(4);
    // With no webhook arriving, only polling tells the pool of the 4 jobs.
    await().atMost(Duration.ofMinutes(2)).until(() -> cli.sim.state().finishedJobs() == 4);
    assertTrue(
        cli.sim.webhookDeliveries().stream()
            .noneMatch(
                d ->
                    d.event().equals("workflow_job")
                        && d.status() == SimWebhookDelivery.Status.DELIVERED),
        "a workflow_job delivery got through");
    assertTrue(loopStarts() > 0, this::output);
  }

  private String scrape() throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** How many times the scaler started loops, from the orchestrator's log. */
  private long loopStarts() throws java.io.IOException {
    return cli.read("o.log").lines().filter(l -> l.contains("Pool auto: starting")).count();
  }

  private String output() {
    try {
      return cli.read("o.out") + cli.read("o.log");
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }
}
