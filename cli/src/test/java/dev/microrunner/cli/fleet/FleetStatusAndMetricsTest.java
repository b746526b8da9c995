package dev.microrunner.cli.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.cli.Main;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubCallObserver;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.RunnerConfig;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The loops' state as status shows it and as the metrics count it, from events. */
class FleetStatusAndMetricsTest {

  private static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
  private static final String SECRET = "ghp_" + "N0tInAnyMetr1cOrStatus0000000000000zz";

  @TempDir Path work;
  private final FleetState state = new FleetState();
  private final FleetMetrics metrics = new FleetMetrics("host-1", "process", "1.2.3", state);
  private final RunnerId one = RunnerId.parse("1-aaaaaaaa");
  private final RunnerId two = RunnerId.parse("2-bbbbbbbb");

  private static Pool pool(String name, int loops) {
    return Pool.of(
        name,
        loops,
        RunnerConfig.builder()
            .target(GitHubTarget.of("github.com"))
            .scope(RunnerScope.of("repo", "octo/hello"))
            .credentials(Credentials.pat(Secret.of(SECRET)))
            .build());
  }

  private void both(String pool, LoopEvent event) {
    state.onEvent(pool, event);
    metrics.onEvent(pool, event);
  }

  /** Loop 1 of pool small runs a job; loop 2 of pool big backs off after a failure. */
  private void runSomeEvents() {
    List<Pool> pools = List.of(pool("small", 1), pool("big", 1));
    state.onPools(pools);
    metrics.onPools(pools);
    both("small", new LoopEvent.Started(1, T0, 0));
    both("small", new LoopEvent.VmStarted(1, one, "vm", T0, 1_000_000_000L));
    both(
        "small",
        new LoopEvent.RunnerStateChanged(
            1, one, RunnerStatus.State.STARTING, Optional.empty(), T0, 1_000_000_000L));
    both("small", new LoopEvent.Registered(1, one, "small-1-aaaaaaaa", T0, 3_000_000_000L));
    both(
        "small",
        new LoopEvent.RunnerStateChanged(
            1,
            one,
            RunnerStatus.State.BUSY,
            Optional.of(new RunnerStatus.Job("build", Optional.empty())),
            T0,
            4_000_000_000L));
    both("big", new LoopEvent.Started(2, T0, 0));
    both(
        "big",
        new LoopEvent.BackingOff(2, Duration.ofSeconds(2), "VM failed", 3, T0, 5_000_000_000L));
    metrics.onCall(
        new GitHubCallObserver.Call(
            "jitconfig", "POST", 201, 1, OptionalLong.of(4999), Duration.ofMillis(120)));
    metrics.onCall(
        new GitHubCallObserver.Call(
            "jitconfig", "POST", 502, 1, OptionalLong.empty(), Duration.ofMillis(50)));
    metrics.onCall(
        new GitHubCallObserver.Call(
            "jitconfig", "POST", 201, 2, OptionalLong.of(4997), Duration.ofMillis(100)));
  }

  @Test
  void statusShowsEachLoopWithItsPoolRunnerStateJobAndFailures() throws Exception {
    runSomeEvents();
    Clock clock = Clock.fixed(T0.plusSeconds(75), ZoneOffset.UTC);
    StatusServer server = StatusServer.start(work, "fleet", state, clock).orElseThrow();
    try {
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(server.socket())));
      JsonNode status = new ObjectMapper().readTree(StatusClient.fetch(server.socket()));
      JsonNode loops = status.path("loops");
      assertEquals(2, loops.size(), status.toString());
      assertEquals("small", loops.get(0).path("pool").asText());
      assertEquals(1, loops.get(0).path("loop").asInt());
      assertEquals("1-aaaaaaaa", loops.get(0).path("runner").asText());
      assertEquals("busy", loops.get(0).path("state").asText());
      assertEquals("build", loops.get(0).path("job").asText());
      assertEquals(75.0, loops.get(0).path("vm_age_seconds").asDouble(), 0.001);
      assertEquals("big", loops.get(1).path("pool").asText());
      assertTrue(loops.get(1).path("runner").isNull());
      assertEquals("backing-off", loops.get(1).path("state").asText());
      assertEquals(3, loops.get(1).path("failures_in_a_row").asInt());

      Run json = status("--json");
      assertEquals(0, json.status(), json.err());
      assertEquals(status, new ObjectMapper().readTree(json.out()));
      Run table = status();
      assertEquals(0, table.status(), table.err());
      assertTrue(table.out().startsWith("POOL "), table.out());
      assertTrue(
          table.out().lines().anyMatch(l -> l.matches("small +1 +1-aaaaaaaa +busy .*build.*")),
          table.out());
      assertFalse(table.out().contains(SECRET));
    } finally {
      server.close();
    }
    assertFalse(Files.exists(server.socket()), "socket left behind");
  }

  @Test
  void statusWithoutAnOrchestratorSaysSoInOneLineAndExitsOne() throws Exception {
    Run run = status();
    assertEquals(1, run.status());
    assertEquals("", run.out());
    assertEquals(1, run.err().lines().count(), run.err());
    assertTrue(run.err().contains("no orchestrator with prefix fleet is running"), run.err());

    // A socket that a dead orchestrator left behind: closing a channel leaves its file.
    try (java.nio.channels.ServerSocketChannel dead =
        java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      dead.bind(java.net.UnixDomainSocketAddress.of(StatusServer.socketPath(work, "fleet")));
    }
    Run stale = status();
    assertEquals(1, stale.status());
    assertTrue(stale.err().contains("does not answer"), stale.err());
  }

  private record Run(int status, String out, String err) {}

  private Run status(String... more) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.commandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    List<String> arguments =
        new java.util.ArrayList<>(
            List.of("status", "--state-dir", work.toString(), "--prefix", "fleet"));
    arguments.addAll(List.of(more));
    int status = commandLine.execute(arguments.toArray(new String[0]));
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void metricsCountPerPoolWithBoundedLabelsAndNoSecret() throws Exception {
    runSomeEvents();
    both("small", new LoopEvent.VmExited(1, one, OptionalInt.of(0), T0, 64_000_000_000L));
    both("small", new LoopEvent.VmStarted(1, two, "vm", T0, 64_010_000_000L));

    HTTPServer server = metrics.serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    String text;
    try {
      text =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.getPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
    } finally {
      server.close();
    }
    assertTrue(
        text.contains(
            "microrunner_runners_started_total{host=\"host-1\",pool=\"small\",runtime=\"process\"} 2.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_runners_completed_total{host=\"host-1\",pool=\"small\",runtime=\"process\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_runners_failed_total{host=\"host-1\",pool=\"big\",runtime=\"process\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_loops{host=\"host-1\",pool=\"big\",runtime=\"process\",state=\"backing-off\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_vm_start_to_registration_seconds_bucket{host=\"host-1\",pool=\"small\",runtime=\"process\",le=\"2.0\"} 1"),
        text);
    assertTrue(
        text.contains(
            "microrunner_job_duration_seconds_sum{host=\"host-1\",pool=\"small\",runtime=\"process\"} 60.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_host_gap_seconds_bucket{host=\"host-1\",pool=\"small\",runtime=\"process\",le=\"0.01\"} 1"),
        text);
    assertTrue(
        text.contains(
            "microrunner_github_calls_total{endpoint=\"jitconfig\",host=\"host-1\",status=\"502\"} 1.0"),
        text);
    assertTrue(
        text.contains(
            "microrunner_github_retries_total{endpoint=\"jitconfig\",host=\"host-1\"} 1.0"),
        text);
    assertTrue(
        text.contains("microrunner_github_rate_limit_remaining{host=\"host-1\"} 4997.0"), text);
    assertTrue(
        text.contains("microrunner_build_info{host=\"host-1\",version=\"1.2.3\"} 1.0"), text);
    assertTrue(text.contains("microrunner_uptime_seconds{host=\"host-1\"}"), text);
    assertFalse(text.contains(SECRET));
    assertFalse(text.contains("aaaaaaaa"), "a runner id became a label value");
  }
}
