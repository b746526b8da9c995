package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code listRunnerDownloads()} and {@code listRunnerReleases()}: their exact requests against the
 * strict recording server, what they make of GitHub's answers, and the retry machinery around them.
 */
class RunnerDownloadsAndReleasesTest {

  private static final String TOKEN = "ghp_recordedToken0123456789";
  private static final String RELEASES = "/repos/actions/runner/releases";

  /** Shaped like GitHub's answer (the OpenAPI example, with a checksum and a token). */
  private static final String DOWNLOADS =
      """
      [
        {"os": "osx", "architecture": "x64",
         "download_url": "https://github.com/actions/runner/releases/download/v2.336.0/actions-runner-osx-x64-2.336.0.tar.gz",
         "filename": "actions-runner-osx-x64-2.336.0.tar.gz",
         "temp_download_token": "dlTokenValue123",
         "sha256_checksum": "b2e7c3f1a0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0"},
        {"os": "linux", "architecture": "arm64",
         "download_url": "https://github.com/actions/runner/releases/download/v2.336.0/actions-runner-linux-arm64-2.336.0.tar.gz",
         "filename": "actions-runner-linux-arm64-2.336.0.tar.gz"},
        {"os": "win", "architecture": "x64",
         "download_url": "https://github.com/actions/runner/releases/download/v2.336.0/actions-runner-win-x64-2.336.0.zip",
         "filename": "actions-runner-win-x64-2.336.0.zip"}
      ]
      """;

  private RecordingGitHub github;
  private final TestSupport.MutableClock clock =
      new TestSupport.MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final TestSupport.RecordingSleeper sleeper = new TestSupport.RecordingSleeper(clock);

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
        .sleeper(sleeper)
        .build();
  }

  private static String release(String tag, String publishedAt, boolean draft, boolean pre) {
    return "{\"id\":1,\"tag_name\":\""
        + tag
        + "\",\"name\":\""
        + tag
        + "\",\"draft\":"
        + draft
        + ",\"prerelease\":"
        + pre
        + ",\"created_at\":\"2025-12-01T00:00:00Z\",\"published_at\":"
        + (publishedAt == null ? "null" : "\"" + publishedAt + "\"")
        + "}";
  }

  @Test
  void downloadsAreAskedOfTheScopeAndReadWithTheirVersion() throws Exception {
    github
        .expect("GET", "/repos/octo/hello/actions/runners/downloads", TOKEN, null, 200, DOWNLOADS)
        .expect("GET", "/enterprises/big/actions/runners/downloads", TOKEN, null, 200, "[]");
    List<RunnerDownload> downloads = client("repo", "octo/hello").listRunnerDownloads();
    assertEquals(3, downloads.size());
    RunnerDownload osx = downloads.get(0);
    assertEquals("osx", osx.os());
    assertEquals("x64", osx.architecture());
    assertEquals(
        URI.create(
            "https://github.com/actions/runner/releases/download/v2.336.0/actions-runner-osx-x64-2.336.0.tar.gz"),
        osx.downloadUrl());
    assertEquals(Optional.of("2.336.0"), osx.version());
    assertEquals("dlTokenValue123", osx.tempDownloadToken().orElseThrow().reveal());
    assertFalse(osx.toString().contains("dlTokenValue123"), "the download token shows");
    assertEquals(64, osx.sha256Checksum().orElseThrow().length());
    RunnerDownload linux = downloads.get(1);
    assertTrue(linux.tempDownloadToken().isEmpty());
    assertTrue(linux.sha256Checksum().isEmpty());
    assertEquals(Optional.of("2.336.0"), downloads.get(2).version());

    assertTrue(client("enterprise", "big").listRunnerDownloads().isEmpty());
    github.assertAllMet();
  }

  @Test
  void theVersionComesFromTheFileName() {
    assertEquals(Optional.of("2.336.0"), download("actions-runner-linux-x64-2.336.0.tar.gz"));
    assertEquals(Optional.of("2.340.12"), download("actions-runner-win-arm64-2.340.12.zip"));
    assertEquals(Optional.of("2.336.0"), download("actions-runner-linux-arm-2.336.0.tar.gz"));
    assertEquals(Optional.empty(), download("actions-runner-linux-x64-latest.tar.gz"));
    assertEquals(Optional.empty(), download("actions-runner-linux-x64-2.336.0.rpm"));
    assertEquals(Optional.empty(), download("runner-2.336.0.tar.gz"));
  }

  private static Optional<String> download(String filename) {
    return new RunnerDownload(
            "linux",
            "x64",
            URI.create("https://example.invalid/" + filename),
            filename,
            Optional.empty(),
            Optional.empty())
        .version();
  }

  @Test
  void aDownloadWithoutARequiredFieldIsAnError() throws Exception {
    github.expect(
        "GET",
        "/orgs/octo/actions/runners/downloads",
        TOKEN,
        null,
        200,
        "[{\"os\":\"linux\",\"architecture\":\"x64\",\"filename\":\"f.tar.gz\"}]");
    GitHubException e =
        assertThrows(GitHubException.class, () -> client("org", "octo").listRunnerDownloads());
    assertTrue(e.getMessage().contains("download_url"), e.getMessage());
    github.assertAllMet();
  }

  @Test
  void releasesAreActionsRunnersWhateverTheScopeEveryPageNewestPublishedFirst() throws Exception {
    String next =
        "<"
            + github.url()
            + RELEASES
            + "?per_page=100&page=2>; rel=\"next\", <"
            + github.url()
            + RELEASES
            + "?per_page=100&page=2>; rel=\"last\"";
    github
        .expect(
            "GET",
            RELEASES + "?per_page=100",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of("Link", next),
                "["
                    + release("v2.337.0", null, true, false)
                    + ","
                    + release("v2.336.0", "2026-06-10T12:00:00Z", false, false)
                    + ","
                    + release("v2.336.1-beta", "2026-06-12T09:30:00+02:00", false, true)
                    + "]"))
        .expect(
            "GET",
            RELEASES + "?per_page=100&page=2",
            TOKEN,
            null,
            200,
            "["
                + release("v2.335.0", "2026-05-20T08:00:00Z", false, false)
                + ","
                + release("2.334.0", "2026-04-29T08:00:00Z", false, true)
                + "]");
    List<PublishedRunnerRelease> releases = client("org", "octo").listRunnerReleases();
    assertEquals(
        List.of(
            new PublishedRunnerRelease("2.336.0", Instant.parse("2026-06-10T12:00:00Z"), false),
            new PublishedRunnerRelease("2.335.0", Instant.parse("2026-05-20T08:00:00Z"), false),
            new PublishedRunnerRelease("2.334.0", Instant.parse("2026-04-29T08:00:00Z"), true)),
        releases,
        "drafts and tags that are not versions are left out");
    github.assertAllMet();
  }

  @Test
  void releasesThatAreNotThereSayWhy() throws Exception {
    github.expect(
        "GET", RELEASES + "?per_page=100", TOKEN, null, 404, "{\"message\":\"Not Found\"}");
    GitHubNotFoundException e =
        assertThrows(
            GitHubNotFoundException.class, () -> client("repo", "octo/hello").listRunnerReleases());
    assertTrue(e.getMessage().contains("actions/runner's releases are not on"), e.getMessage());
    assertFalse(e.getMessage().contains("octo/hello"), e.getMessage());
    github.assertAllMet();
  }

  @Test
  void bothGoThroughTheRetriesAndRateLimits() throws Exception {
    GitHubRunnerClient client = client("org", "octo");
    github
        .expect("GET", "/orgs/octo/actions/runners/downloads", TOKEN, null, 502, "{}")
        .expect("GET", "/orgs/octo/actions/runners/downloads", TOKEN, null, 200, DOWNLOADS);
    assertEquals(3, client.listRunnerDownloads().size());
    assertEquals(1, sleeper.sleeps.size(), "the 502 was retried after a back-off");

    long reset = clock.instant().plusSeconds(90).getEpochSecond();
    github
        .expect(
            "GET",
            RELEASES + "?per_page=100",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                403,
                Map.of("x-ratelimit-remaining", "0", "x-ratelimit-reset", String.valueOf(reset)),
                "{\"message\":\"API rate limit exceeded for user ID 1.\"}"))
        .expect(
            "GET",
            RELEASES + "?per_page=100",
            TOKEN,
            null,
            200,
            "[" + release("v2.336.0", "2026-06-10T12:00:00Z", false, false) + "]");
    Instant asked = clock.instant();
    assertEquals("2.336.0", client.listRunnerReleases().get(0).version());
    assertEquals(
        Duration.between(asked, Instant.ofEpochSecond(reset + 1)),
        sleeper.sleeps.get(1),
        "waited for the reset");
    github.assertAllMet();
  }
}
