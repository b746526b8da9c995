package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code microrunner sim} as a real process. */
class SimCommandIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern API_URL = Pattern.compile("API_URL=(http://127\\.0\\.0\\.1:\\d+)");

  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void killLeftovers() {
    started.forEach(Process::destroyForcibly);
  }

  @Test
  void servesTheStateAndAGeneratedTokenThenExitsCleanlyOnSigterm() throws Exception {
    Process sim = start("sim", "--jobs", "3", "--labels", "self-hosted,linux");
    BufferedReader stdout = reader(sim);

    String first = stdout.readLine();
    Matcher url = API_URL.matcher(first);
    assertTrue(url.matches(), "first line: " + first);
    String second = stdout.readLine();
    assertTrue(second.startsWith("TOKEN_FILE="), "second line: " + second);
    Path tokenFile = Path.of(second.substring("TOKEN_FILE=".length()));
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)));
    assertEquals(
        "rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile.getParent())));
    String token = Files.readString(tokenFile).strip();
    assertTrue(token.matches("ghp_[A-Za-z0-9]{36}"), "token shape");

    JsonNode state = JSON.readTree(get(url.group(1) + "/_sim/state", null).body());
    assertEquals(3, state.path("queued_jobs").asInt(), state::toString);
    assertEquals(0, state.path("running_jobs").asInt());
    assertEquals(0, state.path("finished_jobs").asInt());
    assertTrue(state.path("runners").isArray() && state.path("runners").isEmpty(), state::toString);
    assertEquals("linux", state.path("jobs").get(0).path("labels").get(1).asText());

    String runners = url.group(1) + "/repos/demo/hello/actions/runners";
    assertEquals(200, get(runners, token).statusCode());
    assertEquals(401, get(runners, token + "x").statusCode());
    assertEquals(
        404,
        get(url.group(1) + "/repos/octo/hello/actions/runners", token).statusCode(),
        "without --repo, --org or --enterprise only demo/hello exists");

    sigterm(sim);
    assertTrue(sim.waitFor(10, TimeUnit.SECONDS), "sim did not exit on SIGTERM");
    assertEquals(0, sim.exitValue());
    assertFalse(Files.exists(tokenFile.getParent()), "token directory left behind");
    String stderr = new String(sim.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertFalse(stderr.contains(token), "the token was printed");
  }

  @Test
  void acceptsTheTokenFromTokenFilesAndPrintsOnlyTheUrl() throws Exception {
    Path tokenFile = tmp.resolve("pat");
    Files.writeString(tokenFile, "ghp_GivenTokenForTheSimulatorTest0000000\n");
    Process sim = start("sim", "--token-file", tokenFile.toString());
    BufferedReader stdout = reader(sim);
    Matcher url = API_URL.matcher(stdout.readLine());
    assertTrue(url.matches());

    String runners = url.group(1) + "/repos/demo/hello/actions/runners";
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(runners, "ghp_GivenTokenForTheSimulatorTest0000000").statusCode() == 200);

    sigterm(sim);
    assertTrue(sim.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, sim.exitValue());
    assertEquals(null, stdout.readLine(), "more than the API_URL line on stdout");
  }

  @Test
  void onlyTheDeclaredRepositoriesOrganizationsAndEnterprisesExist() throws Exception {
    Path tokenFile = tmp.resolve("pat");
    String token = "ghp_GivenTokenForTheSimulatorTest0000000";
    Files.writeString(tokenFile, token + "\n");
    Process sim =
        start(
            "sim",
            "--token-file",
            tokenFile.toString(),
            "--repo",
            "octo/hello",
            "--repo",
            "octo/world",
            "--org",
            "octo",
            "--enterprise",
            "big");
    Matcher url = API_URL.matcher(reader(sim).readLine());
    assertTrue(url.matches());

    for (String scope :
        List.of("/repos/octo/hello", "/repos/octo/world", "/orgs/octo", "/enterprises/big")) {
      assertEquals(200, get(url.group(1) + scope + "/actions/runners", token).statusCode(), scope);
    }
    for (String scope : List.of("/repos/demo/hello", "/orgs/demo", "/enterprises/small")) {
      assertEquals(404, get(url.group(1) + scope + "/actions/runners", token).statusCode(), scope);
    }
    sigterm(sim);
    assertTrue(sim.waitFor(10, TimeUnit.SECONDS));
    String stderr = new String(sim.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(
        stderr.contains(
            "repository octo/hello, repository octo/world, organization octo, enterprise big"),
        stderr);
  }

  @Test
  void aRepositoryWithoutItsOwnerIsAUsageErrorNamingTheOption() throws Exception {
    Process sim = start("sim", "--repo", "hello");
    assertTrue(sim.waitFor(30, TimeUnit.SECONDS));
    String stderr = new String(sim.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(ExitCodes.USAGE, sim.exitValue(), stderr);
    assertTrue(stderr.contains("--repo hello: repository 'hello' is not OWNER/NAME"), stderr);
  }

  @Test
  void aMissingTokenFileIsAUsageErrorNamingTheOption() throws Exception {
    Process sim = start("sim", "--token-file", tmp.resolve("absent").toString());
    assertTrue(sim.waitFor(30, TimeUnit.SECONDS));
    String stderr = new String(sim.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(ExitCodes.USAGE, sim.exitValue(), stderr);
    assertTrue(stderr.contains("--token-file " + tmp.resolve("absent")), stderr);
  }

  @Test
  void writesARunnerDistributionAndExits() throws Exception {
    Path dir = tmp.resolve("actions-runner");
    Process sim = start("sim", "--runner-dist", dir.toString());
    assertTrue(sim.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, sim.exitValue());
    assertEquals("RUNNER_INSTALL=" + dir, reader(sim).readLine());
    for (String script : List.of("config.sh", "run.sh", "bin/Runner.Listener")) {
      assertTrue(Files.isExecutable(dir.resolve(script)), script);
    }
    // The listener runs: without a configuration it says so and fails (run.sh would report the
    // failure as 0, as upstream's does).
    Process listener =
        new ProcessBuilder(dir.resolve("bin/Runner.Listener").toString(), "run")
            .directory(tmp.toFile())
            .redirectErrorStream(true)
            .start();
    assertTrue(listener.waitFor(30, TimeUnit.SECONDS));
    String output = new String(listener.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, listener.exitValue(), output);
    assertTrue(output.contains("not configured"), output);
  }

  private Process start(String... arguments) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(BuiltJar.java(), "-jar", BuiltJar.jar().toString()));
    command.addAll(List.of(arguments));
    Process process = new ProcessBuilder(command).start();
    started.add(process);
    return process;
  }

  /** SIGTERM; unlike Process.destroy() this keeps the process's streams open for reading. */
  private static void sigterm(Process process) throws Exception {
    assertEquals(
        0, new ProcessBuilder("kill", "-TERM", String.valueOf(process.pid())).start().waitFor());
  }

  private static BufferedReader reader(Process process) {
    return new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(String uri, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
