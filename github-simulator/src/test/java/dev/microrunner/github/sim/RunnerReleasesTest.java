package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.PublishedRunnerRelease;
import dev.microrunner.github.RunnerDownload;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.TestSupport;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code GET SCOPE/actions/runners/downloads} (GitHub's {@code runner-application} schema: {@code
 * os}, {@code architecture}, {@code download_url}, {@code filename} required, {@code
 * temp_download_token}, {@code sha256_checksum}; {@code @octokit/openapi} 23.0.2, {@code
 * generated/api.github.com.json} and {@code generated/ghec.json}) and {@code GET
 * /repos/actions/runner/releases}, over HTTP and through the client.
 */
class RunnerReleasesTest {

  private static final String PAT = "ghp_runnerReleasesTestToken000000";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant START = Instant.parse("2026-06-15T12:00:00Z");

  private final TestSupport.MutableClock clock = new TestSupport.MutableClock(START);
  private final HttpClient http = HttpClient.newHttpClient();
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults().withClock(clock));
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    sim.addOrganization("octo");
    sim.addEnterprise("big");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> get(String pathOrUrl, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(sim.apiUrl().resolve(pathOrUrl)).GET();
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode ok(HttpResponse<String> response) throws Exception {
    assertEquals(200, response.statusCode(), response::body);
    return JSON.readTree(response.body());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/repos/octo/hello", "/orgs/octo", "/enterprises/big"})
  void downloadsOfferTheLatestReleaseForEveryPlatform(String scope) throws Exception {
    JsonNode downloads = ok(get(scope + "/actions/runners/downloads", PAT));
    List<String> platforms = new ArrayList<>();
    for (JsonNode download : downloads) {
      String os = download.path("os").asText();
      String architecture = download.path("architecture").asText();
      platforms.add(os + "-" + architecture);
      String filename =
          "actions-runner-"
              + os
              + "-"
              + architecture
              + "-2.336.0"
              + (os.equals("win") ? ".zip" : ".tar.gz");
      assertEquals(filename, download.path("filename").asText());
      assertEquals(
          "https://github.com/actions/runner/releases/download/v2.336.0/" + filename,
          download.path("download_url").asText());
      assertFalse(download.path("temp_download_token").asText().isEmpty());
      assertTrue(download.path("sha256_checksum").asText().matches("[0-9a-f]{64}"));
    }
    assertEquals(
        List.of(
            "osx-x64",
            "osx-arm64",
            "linux-x64",
            "linux-arm",
            "linux-arm64",
            "win-x64",
            "win-arm64"),
        platforms);
  }

  @Test
  void downloadsNeedATokenAndADeclaredScope() throws Exception {
    assertEquals(401, get("/orgs/octo/actions/runners/downloads", null).statusCode());
    assertEquals(401, get("/orgs/octo/actions/runners/downloads", "wrong").statusCode());
    assertEquals(404, get("/orgs/nope/actions/runners/downloads", PAT).statusCode());
  }

  @Test
  void theDefaultHistoryEndsAt2336PublishedFiveDaysBeforeTheSimulatorStarted() throws Exception {
    JsonNode releases = ok(get("/repos/actions/runner/releases", null));
    assertEquals(5, releases.size());
    List<String> tags = new ArrayList<>();
    releases.forEach(release -> tags.add(release.path("tag_name").asText()));
    assertEquals(List.of("v2.336.0", "v2.335.0", "v2.334.0", "v2.333.0", "v2.332.0"), tags);
    JsonNode latest = releases.get(0);
    assertEquals("v2.336.0", latest.path("name").asText());
    assertEquals(
        START.minus(Duration.ofDays(5)), Instant.parse(latest.path("published_at").asText()));
    assertEquals(
        START.minus(Duration.ofDays(26)),
        Instant.parse(releases.get(1).path("published_at").asText()));
    assertFalse(latest.path("draft").asBoolean(true));
    assertFalse(latest.path("prerelease").asBoolean(true));
    assertEquals(
        "https://github.com/actions/runner/releases/tag/v2.336.0",
        latest.path("html_url").asText());
    assertTrue(latest.path("id").asLong() > releases.get(1).path("id").asLong());
  }

  @Test
  void releasesArePublicButPresentedCredentialsMustVerify() throws Exception {
    HttpResponse<String> anonymous = get("/repos/actions/runner/releases", null);
    assertEquals(200, anonymous.statusCode());
    assertEquals("60", anonymous.headers().firstValue("x-ratelimit-limit").orElseThrow());
    HttpResponse<String> authenticated = get("/repos/actions/runner/releases", PAT);
    assertEquals(200, authenticated.statusCode());
    assertEquals("5000", authenticated.headers().firstValue("x-ratelimit-limit").orElseThrow());
    assertEquals(401, get("/repos/actions/runner/releases", "wrong").statusCode());
    assertEquals(
        404, get("/repos/actions/runner/actions/runners", PAT).statusCode(), "not declared");
  }

  @Test
  void releasesArePaginatedWithALinkHeader() throws Exception {
    HttpResponse<String> first = get("/repos/actions/runner/releases?per_page=2", null);
    assertEquals(2, ok(first).size());
    String link = first.headers().firstValue("Link").orElseThrow();
    String base = sim.apiUrl() + "/repos/actions/runner/releases?per_page=2&page=";
    assertTrue(link.contains("<" + base + "2>; rel=\"next\""), link);
    assertTrue(link.contains("<" + base + "3>; rel=\"last\""), link);

    HttpResponse<String> last = get(base + "3", null);
    JsonNode page = ok(last);
    assertEquals(1, page.size());
    assertEquals("v2.332.0", page.get(0).path("tag_name").asText());
    assertFalse(last.headers().firstValue("Link").orElseThrow().contains("rel=\"next\""));
    assertEquals(0, ok(get(base + "4", null)).size());
  }

  @Test
  void configuredReleasesAreServedAndPrereleasesAreNeverOffered() throws Exception {
    Instant now = clock.instant();
    sim.setRunnerReleases(
        List.of(
            SimRunnerRelease.of("2.340.1", now.minus(Duration.ofDays(2))),
            new SimRunnerRelease("2.341.0", now.minus(Duration.ofHours(1)), true),
            SimRunnerRelease.of("2.339.0", now.minus(Duration.ofDays(40)))));

    JsonNode releases = ok(get("/repos/actions/runner/releases", PAT));
    assertEquals("v2.341.0", releases.get(0).path("tag_name").asText(), "newest first");
    assertTrue(releases.get(0).path("prerelease").asBoolean());
    assertEquals("v2.340.1", releases.get(1).path("tag_name").asText());
    assertEquals("v2.339.0", releases.get(2).path("tag_name").asText());

    JsonNode downloads = ok(get("/repos/octo/hello/actions/runners/downloads", PAT));
    for (JsonNode download : downloads) {
      assertTrue(download.path("filename").asText().contains("-2.340.1."), download::toString);
    }

    sim.setRunnerReleases(List.of());
    assertEquals(0, ok(get("/repos/octo/hello/actions/runners/downloads", PAT)).size());
    assertEquals(0, ok(get("/repos/actions/runner/releases", PAT)).size());
  }

  private GitHubRunnerClient client(String scope, String principal) {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(sim.apiUrl().toString()),
            RunnerScope.of(scope, principal),
            Credentials.pat(Secret.of(PAT)))
        .clock(clock)
        .build();
  }

  @Test
  void theClientReadsTheOfferedVersionForEveryScope() throws Exception {
    for (GitHubRunnerClient client :
        List.of(client("repo", "octo/hello"), client("org", "octo"), client("enterprise", "big"))) {
      List<RunnerDownload> downloads = client.listRunnerDownloads();
      assertEquals(7, downloads.size());
      for (RunnerDownload download : downloads) {
        assertEquals(Optional.of(SimRunnerRelease.LATEST_VERSION), download.version());
        assertTrue(download.tempDownloadToken().isPresent());
      }
      RunnerDownload linux =
          downloads.stream()
              .filter(d -> d.os().equals("linux") && d.architecture().equals("x64"))
              .findFirst()
              .orElseThrow();
      assertEquals("actions-runner-linux-x64-2.336.0.tar.gz", linux.filename());
    }
    assertThrows(GitHubNotFoundException.class, () -> client("org", "nope").listRunnerDownloads());
  }

  @Test
  void theClientReadsEveryReleaseWithItsPublicationOverSeveralPages() throws Exception {
    List<PublishedRunnerRelease> defaults = client("repo", "octo/hello").listRunnerReleases();
    List<PublishedRunnerRelease> expected = new ArrayList<>();
    for (SimRunnerRelease release : SimRunnerRelease.history(START)) {
      expected.add(new PublishedRunnerRelease(release.version(), release.publishedAt(), false));
    }
    assertEquals(expected, defaults);

    List<SimRunnerRelease> many = new ArrayList<>();
    for (int patch = 0; patch < 120; patch++) {
      many.add(
          new SimRunnerRelease(
              "2.400." + patch, START.minus(Duration.ofDays(120 - patch)), patch == 119));
    }
    sim.setRunnerReleases(many);
    long before = sim.state().apiRequests();
    List<PublishedRunnerRelease> releases = client("org", "octo").listRunnerReleases();
    assertEquals(2, sim.state().apiRequests() - before, "two pages of 100");
    assertEquals(120, releases.size());
    assertEquals(
        new PublishedRunnerRelease("2.400.119", START.minus(Duration.ofDays(1)), true),
        releases.get(0));
    assertEquals("2.400.0", releases.get(119).version());
    assertEquals(
        Optional.of("2.400.118"), client("org", "octo").listRunnerDownloads().get(0).version());
  }

  @Test
  void releasesThatCannotBeAreRefused() {
    Instant now = clock.instant();
    assertThrows(IllegalArgumentException.class, () -> SimRunnerRelease.of("v2.336.0", now));
    assertThrows(IllegalArgumentException.class, () -> SimRunnerRelease.of("2.336.0-rc1", now));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            sim.setRunnerReleases(
                List.of(SimRunnerRelease.of("2.336.0", now), SimRunnerRelease.of("2.336.0", now))));
  }
}
