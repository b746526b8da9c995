package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet host as a real process: two pools from a configuration file against the simulator, its
 * metrics read by Prometheus' own text parser, {@code microrunner status}, SIGHUP reloads and JSON
 * logs.
 */
class FleetIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Prometheus' Python client's parser (Debian's python3-prometheus-client): samples as JSON. */
  private static final String PARSE =
      """
      import json, sys, urllib.request
      from prometheus_client.parser import text_string_to_metric_families
      text = urllib.request.urlopen(sys.argv[1]).read().decode()
      out = []
      for family in text_string_to_metric_families(text):
          for s in family.samples:
              out.append({"family": family.name, "type": family.type, "name": s.name,
                          "labels": s.labels, "value": s.value})
      print(json.dumps(out))
      """;

  @TempDir Path work;
  private CliProcess cli;
  private Process orchestrator;
  private Path config;
  private int metricsPort;
  private long bigGroup;
  private int ownApiCalls;

  @BeforeEach
  void start() throws IOException {
    cli = new CliProcess(work);
    cli.sim.addOrganization("octo-org");
    bigGroup = cli.sim.addRunnerGroup("big-group");
    config = work.resolve("fleet.yaml");
    try (ServerSocket free = new ServerSocket(0)) {
      metricsPort = free.getLocalPort();
    }
  }

  @AfterEach
  void stop() {
    if (orchestrator != null) {
      orchestrator.descendants().forEach(ProcessHandle::destroyForcibly);
      orchestrator.destroyForcibly();
    }
    cli.sim.close();
  }

  private String yaml(String pools) {
    return """
        orchestrator:
          prefix: fleetit
          runtime: process
          parallel-start: 3
          state-dir: %s
          base-dir: %s
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
        %s
        """
        .formatted(
            work.resolve("state"),
            work.resolve("base"),
            metricsPort,
            cli.sim.apiUrl(),
            cli.jar.resolveSibling("agent"),
            cli.distribution,
            CliProcess.java(),
            pools.indent(2).stripTrailing());
  }

  private static final String SMALL =
      """
      - name: small
        loops: 1
        principal: octo/hello
        labels: [self-hosted, small]
        name-prefix: small
      """;

  private static String big(String labels) {
    return """
        - name: big
          loops: 2
          scope: org
          principal: octo-org
          group: big-group
          labels: [%s]
          name-prefix: big
          cpus: 4
          memory: 2048
        """
        .formatted(labels);
  }

  private static final String EXTRA =
      """
      - name: extra
        loops: 1
        principal: octo/hello
        labels: [self-hosted, extra]
        name-prefix: extra
      """;

  /** Online runners at the simulator: pool (the name's first part) to their label lists. */
  private Map<String, List<List<String>>> online() {
    return cli.sim.state().runners().stream()
        .filter(r -> r.status().equals("online"))
        .collect(
            Collectors.groupingBy(
                r -> r.name().substring(0, r.name().indexOf('-')),
                TreeMap::new,
                Collectors.mapping(SimState.RunnerState::labels, Collectors.toList())));
  }

  @Test
  void aTwoPoolFleetRunsReportsReloadsAndStops() throws Exception {
    Files.writeString(config, yaml(SMALL + big("self-hosted, big")));
    orchestrator =
        cli.start(
            List.of(
                "orchestrator",
                "--config",
                config.toString(),
                "-l",
                work.resolve("fleet.log").toString(),
                "--log-format",
                "json"),
            Map.of("RUNNER_PAT", CliProcess.PAT, "RUNNER_SECRET", CliProcess.SECRET),
            "fleet.out");

    // Both pools, with their labels, scopes, groups and sizes.
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> online().equals(expected(1, "small", 2, "big")) || !orchestrator.isAlive());
    assertTrue(orchestrator.isAlive(), this::output);
    List<SimState.RunnerState> runners = cli.sim.state().runners();
    assertTrue(
        runners.stream()
            .filter(r -> r.name().startsWith("big-"))
            .allMatch(r -> r.scope().contains("octo-org")),
        "" + runners);
    // Online: each loop also holds one registration prepared ahead, offline until its VM starts.
    assertEquals(2, runnersInGroup("octo-org", bigGroup), "big's runners are in big-group");

    // Jobs go to the pool whose labels they ask for.
    cli.sim.enqueueJob(new SimJob("small-job", List.of("self-hosted", "small"), ms(300)));
    cli.sim.enqueueJob(new SimJob("big-job-1", List.of("self-hosted", "big"), ms(300)));
    cli.sim.enqueueJob(new SimJob("big-job-2", List.of("self-hosted", "big"), ms(300)));
    await().atMost(Duration.ofSeconds(90)).until(() -> cli.sim.state().finishedJobs() == 3);
    for (SimState.JobState job : cli.sim.state().jobs()) {
      String pool = job.name().substring(0, job.name().indexOf('-'));
      assertTrue(job.runnerName().orElseThrow().startsWith(pool + "-"), "" + job);
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> online().equals(expected(1, "small", 2, "big")));

    // Metrics, read by Prometheus' parser, count what the simulator saw.
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              List<JsonNode> samples = scrape();
              assertEquals(1.0, sample(samples, "microrunner_runners_completed_total", "small"));
              assertEquals(2.0, sample(samples, "microrunner_runners_completed_total", "big"));
              assertEquals(
                  cli.sim.state().apiRequests() - ownApiCalls,
                  (long) sum(samples, "microrunner_github_calls_total"),
                  "GitHub calls counted against the simulator's");
              assertEquals(2.0, loops(samples, "big", "idle"));
              assertEquals(1.0, loops(samples, "small", "idle"));
            });
    List<JsonNode> samples = scrape();
    for (JsonNode sample : samples) {
      if (sample.path("family").asText().startsWith("microrunner_runners_")
          || sample.path("family").asText().equals("microrunner_loops")) {
        assertTrue(sample.path("labels").has("pool"), "no pool label: " + sample);
      }
      assertFalse(sample.toString().contains(CliProcess.PAT));
      assertFalse(sample.toString().contains(CliProcess.SECRET));
    }
    double registered =
        sample(samples, "microrunner_runners_registered_total", "small")
            + sample(samples, "microrunner_runners_registered_total", "big");
    assertEquals(6.0, registered, "3 first runners and 3 after the jobs");

    // Status shows the live loops.
    CliProcess.Run status = status("--json");
    assertEquals(0, status.status(), status.output());
    JsonNode loops = JSON.readTree(status.output()).path("loops");
    assertEquals(3, loops.size(), status.output());
    for (JsonNode loop : loops) {
      assertTrue(loop.has("pool") && loop.has("loop") && loop.has("runner"), "" + loop);
      assertEquals("idle", loop.path("state").asText(), "" + loop);
      assertTrue(
          loop.path("runner").asText().startsWith(loop.path("loop").asText() + "-"), "" + loop);
    }
    CliProcess.Run table = status();
    assertEquals(0, table.status(), table.output());
    assertTrue(table.output().contains("big") && table.output().contains("idle"), table.output());

    // SIGHUP: small goes, extra comes, big's labels change (its loops are replaced one by one).
    Files.writeString(config, yaml(big("self-hosted, big, v2") + EXTRA));
    hangUp();
    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                online()
                    .equals(
                        Map.of(
                            "big",
                            List.of(
                                List.of("self-hosted", "big", "v2"),
                                List.of("self-hosted", "big", "v2")),
                            "extra",
                            List.of(List.of("self-hosted", "extra")))));
    assertTrue(orchestrator.isAlive(), this::output);

    // An invalid file is refused with its place, and nothing changes.
    Files.writeString(
        config,
        yaml(big("self-hosted, big, v3") + EXTRA.replace("loops: 1", "loops: 1\n  memory: 10")));
    hangUp();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> cli.read("fleet.log").contains("Reload refused"));
    String refusal =
        JSON.readTree(
                cli.read("fleet.log")
                    .lines()
                    .filter(l -> l.contains("Reload refused"))
                    .findFirst()
                    .orElseThrow())
            .path("formattedMessage")
            .asText();
    assertTrue(refusal.contains(config + ":"), refusal);
    assertTrue(refusal.contains("pools[1].memory"), refusal);
    assertEquals(
        Map.of(
            "big",
            List.of(List.of("self-hosted", "big", "v2"), List.of("self-hosted", "big", "v2")),
            "extra",
            List.of(List.of("self-hosted", "extra"))),
        online());

    // JSON logs: one object per line, with pool, loop and runner.
    List<JsonNode> lines = new ArrayList<>();
    for (String line : cli.read("fleet.log").lines().toList()) {
      lines.add(JSON.readTree(line));
    }
    assertTrue(
        lines.stream()
            .anyMatch(
                l ->
                    l.path("mdc").path("pool").asText().equals("big")
                        && l.path("mdc").path("runner").asText().matches("\\d+-\\w+")
                        && l.path("mdc").has("loop")),
        "no line with pool, loop and runner");
    assertFalse(cli.read("fleet.log").contains(CliProcess.PAT));

    orchestrator.destroy(); // SIGTERM
    assertTrue(orchestrator.waitFor(40, TimeUnit.SECONDS), "not ended after SIGTERM");
    assertEquals(0, orchestrator.exitValue(), this::output);
    assertEquals(List.of(), cli.sim.state().runners(), "registrations left behind");
    assertEquals(1, status().status(), "status after the orchestrator stopped");
  }

  private static Map<String, List<List<String>>> expected(
      int small, String smallName, int big, String bigName) {
    Map<String, List<List<String>>> expected = new TreeMap<>();
    expected.put(smallName, java.util.Collections.nCopies(small, List.of("self-hosted", "small")));
    expected.put(bigName, java.util.Collections.nCopies(big, List.of("self-hosted", "big")));
    return expected;
  }

  private CliProcess.Run status(String... more) throws Exception {
    List<String> arguments =
        new ArrayList<>(
            List.of("status", "--state-dir", work.resolve("state").toString(), "-p", "fleetit"));
    arguments.addAll(List.of(more));
    return cli.run(Map.of(), arguments.toArray(new String[0]));
  }

  private void hangUp() throws Exception {
    Process kill = new ProcessBuilder("kill", "-HUP", String.valueOf(orchestrator.pid())).start();
    assertEquals(0, kill.waitFor());
  }

  private List<JsonNode> scrape() throws Exception {
    Process python =
        // Debian's interpreter, where python3-prometheus-client installs the parser.
        new ProcessBuilder(
                "/usr/bin/python3", "-c", PARSE, "http://127.0.0.1:" + metricsPort + "/metrics")
            .redirectErrorStream(true)
            .start();
    String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(python.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, python.exitValue(), "Prometheus' parser refused the metrics: " + out);
    List<JsonNode> samples = new ArrayList<>();
    JSON.readTree(out).forEach(samples::add);
    return samples;
  }

  private static double sample(List<JsonNode> samples, String name, String pool) {
    return samples.stream()
        .filter(s -> s.path("name").asText().equals(name))
        .filter(s -> s.path("labels").path("pool").asText().equals(pool))
        .mapToDouble(s -> s.path("value").asDouble())
        .sum();
  }

  private static double loops(List<JsonNode> samples, String pool, String state) {
    return samples.stream()
        .filter(s -> s.path("name").asText().equals("microrunner_loops"))
        .filter(s -> s.path("labels").path("pool").asText().equals(pool))
        .filter(s -> s.path("labels").path("state").asText().equals(state))
        .mapToDouble(s -> s.path("value").asDouble())
        .sum();
  }

  private static double sum(List<JsonNode> samples, String name) {
    return samples.stream()
        .filter(s -> s.path("name").asText().equals(name))
        .mapToDouble(s -> s.path("value").asDouble())
        .sum();
  }

  /** Runners in an organization's runner group, asked of the simulator's REST API. */
  private int runnersInGroup(String org, long group) throws Exception {
    ownApiCalls++;
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            cli.sim.apiUrl()
                                + "/orgs/"
                                + org
                                + "/actions/runner-groups/"
                                + group
                                + "/runners"))
                    .header("Authorization", "Bearer " + CliProcess.PAT)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    int online = 0;
    for (JsonNode runner : JSON.readTree(response.body()).path("runners")) {
      if (runner.path("status").asText().equals("online")
          && runner.path("name").asText().startsWith("big-")) {
        online++;
      }
    }
    return online;
  }

  private String output() {
    try {
      return cli.read("fleet.out") + cli.read("fleet.log");
    } catch (IOException e) {
      return e.toString();
    }
  }

  private static Duration ms(long millis) {
    return Duration.ofMillis(millis);
  }
}
