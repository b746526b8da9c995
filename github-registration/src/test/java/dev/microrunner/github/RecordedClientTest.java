package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every call's exact HTTP contract, against a strict recording server. */
class RecordedClientTest {

  private static final String TOKEN = "ghp_recordedToken0123456789";
  private static final String RUNNER_JSON =
      "{\"id\":23,\"name\":\"ubuntu-krun-1\",\"os\":\"Linux\",\"status\":\"offline\",\"busy\":false,"
          + "\"ephemeral\":true,\"labels\":[{\"id\":1,\"name\":\"self-hosted\",\"type\":\"read-only\"},"
          + "{\"id\":2,\"name\":\"krun\",\"type\":\"custom\"}]}";

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

  @Test
  void registrationAndRemoveTokens() throws Exception {
    github
        .expect(
            "POST",
            "/repos/octo/hello/actions/runners/registration-token",
            TOKEN,
            null,
            201,
            "{\"token\":\"LLBF3JGZDX3P5PMEXLND6TS6FCWO6\",\"expires_at\":\"2026-01-01T01:00:00.000-08:00\"}")
        .expect(
            "POST",
            "/orgs/octo/actions/runners/remove-token",
            TOKEN,
            null,
            201,
            "{\"token\":\"AABF3JGZDX3P5PMEXLND6TS6FCWO6\",\"expires_at\":\"2026-01-01T01:00:00Z\"}");
    RegistrationToken registration = client("repo", "octo/hello").createRegistrationToken();
    assertEquals("LLBF3JGZDX3P5PMEXLND6TS6FCWO6", registration.token().reveal());
    assertEquals(Instant.parse("2026-01-01T09:00:00Z"), registration.expiresAt());
    RegistrationToken remove = client("org", "octo").createRemoveToken();
    assertEquals("AABF3JGZDX3P5PMEXLND6TS6FCWO6", remove.token().reveal());
    assertFalse(remove.toString().contains("AABF3J"));
    github.assertAllMet();
  }

  @Test
  void jitConfigSendsNameGroupLabelsAndWorkFolder() throws Exception {
    github.expect(
        "POST",
        "/enterprises/big/actions/runners/generate-jitconfig",
        TOKEN,
        "{\"name\":\"ubuntu-krun-1\",\"runner_group_id\":7,\"labels\":[\"krun\",\"ubuntu\"],\"work_folder\":\"_work\"}",
        201,
        "{\"runner\":" + RUNNER_JSON + ",\"encoded_jit_config\":\"abc123==\"}");
    JitConfig jit =
        client("enterprise", "big")
            .generateJitConfig(
                new JitRequest(
                    "ubuntu-krun-1", 7, List.of("krun", "ubuntu"), Optional.of("_work")));
    assertEquals(23, jit.runner().id());
    assertEquals(List.of("self-hosted", "krun"), jit.runner().labels());
    assertTrue(jit.runner().ephemeral());
    assertEquals("abc123==", jit.encodedJitConfig().reveal());
    assertFalse(jit.toString().contains("abc123"));
    github.assertAllMet();
  }

  @Test
  void jitConfigWithoutWorkFolderOmitsIt() throws Exception {
    github.expect(
        "POST",
        "/repos/octo/hello/actions/runners/generate-jitconfig",
        TOKEN,
        "{\"name\":\"r1\",\"runner_group_id\":1,\"labels\":[\"krun\"]}",
        201,
        "{\"runner\":" + RUNNER_JSON + ",\"encoded_jit_config\":\"x\"}");
    client("repo", "octo/hello").generateJitConfig(new JitRequest("r1", 1, List.of("krun")));
    github.assertAllMet();
  }

  @Test
  void listRunnersFollowsTheLinkHeaderOverSeveralPages() throws Exception {
    String base = "/repos/octo/hello/actions/runners";
    github
        .expect(
            "GET",
            base + "?per_page=100",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of(
                    "Link",
                    "<"
                        + github.url()
                        + base
                        + "?per_page=100&page=2>; rel=\"next\", <"
                        + github.url()
                        + base
                        + "?per_page=100&page=3>; rel=\"last\""),
                page(1, 100)))
        .expect(
            "GET",
            base + "?per_page=100&page=2",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of(
                    "Link",
                    "<"
                        + github.url()
                        + base
                        + "?per_page=100&page=3>; rel=\"next\", <"
                        + github.url()
                        + base
                        + "?per_page=100&page=1>; rel=\"first\""),
                page(101, 100)))
        .expect(
            "GET",
            base + "?per_page=100&page=3",
            TOKEN,
            null,
            new RecordingGitHub.Reply(
                200,
                Map.of("Link", "<" + github.url() + base + "?per_page=100&page=1>; rel=\"first\""),
                page(201, 5)));
    List<Runner> runners = client("repo", "octo/hello").listRunners();
    assertEquals(205, runners.size());
    assertEquals("runner-1", runners.get(0).name());
    assertEquals("runner-205", runners.get(204).name());
    github.assertAllMet();
  }

  private static String page(int first, int count) {
    StringBuilder json = new StringBuilder("{\"total_count\":205,\"runners\":[");
    for (int i = 0; i < count; i++) {
      int id = first + i;
      json.append(i == 0 ? "" : ",")
          .append("{\"id\":")
          .append(id)
          .append(",\"name\":\"runner-")
          .append(id)
          .append("\",\"os\":\"Linux\",\"status\":\"online\",\"busy\":false,\"labels\":[]}");
    }
    return json.append("]}").toString();
  }

  @Test
  void findRunnerByNameUsesTheNameFilter() throws Exception {
    github.expect(
        "GET",
        "/orgs/octo/actions/runners?name=ubuntu-krun-1&per_page=100",
        TOKEN,
        null,
        200,
        "{\"total_count\":1,\"runners\":[" + RUNNER_JSON + "]}");
    github.expect(
        "GET",
        "/orgs/octo/actions/runners?name=gone&per_page=100",
        TOKEN,
        null,
        200,
        "{\"total_count\":0,\"runners\":[]}");
    GitHubRunnerClient client = client("org", "octo");
    assertEquals(23, client.findRunnerByName("ubuntu-krun-1").orElseThrow().id());
    assertTrue(client.findRunnerByName("gone").isEmpty());
    github.assertAllMet();
  }

  @Test
  void getAndDeleteRunner() throws Exception {
    String path = "/repos/octo/hello/actions/runners/23";
    github
        .expect("GET", path, TOKEN, null, 200, RUNNER_JSON)
        .expect("GET", path, TOKEN, null, 404, "{\"message\":\"Not Found\"}")
        .expect("DELETE", path, TOKEN, null, 204, null)
        .expect("DELETE", path, TOKEN, null, 404, "{\"message\":\"Not Found\"}");
    GitHubRunnerClient client = client("repo", "octo/hello");
    assertEquals("offline", client.getRunner(23).orElseThrow().status());
    assertTrue(client.getRunner(23).isEmpty());
    assertTrue(client.deleteRunner(23));
    assertFalse(client.deleteRunner(23));
    github.assertAllMet();
  }

  @Test
  void runnerGroupsAreLookedUpForOrgsAndEnterprisesButNotRepos() throws Exception {
    String groups =
        "{\"total_count\":2,\"runner_groups\":[{\"id\":1,\"name\":\"Default\",\"default\":true},"
            + "{\"id\":4,\"name\":\"krun-pool\",\"default\":false}]}";
    github
        .expect("GET", "/orgs/octo/actions/runner-groups?per_page=100", TOKEN, null, 200, groups)
        .expect(
            "GET", "/enterprises/big/actions/runner-groups?per_page=100", TOKEN, null, 200, groups)
        .expect("GET", "/orgs/octo/actions/runner-groups?per_page=100", TOKEN, null, 200, groups);
    assertEquals(4, client("org", "octo").runnerGroupId("krun-pool"));
    assertEquals(1, client("enterprise", "big").runnerGroupId("default"));
    GitHubNotFoundException missing =
        org.junit.jupiter.api.Assertions.assertThrows(
            GitHubNotFoundException.class, () -> client("org", "octo").runnerGroupId("nope"));
    assertTrue(missing.getMessage().contains("krun-pool"), missing.getMessage());
    assertEquals(1, client("repo", "octo/hello").runnerGroupId("Default"));
    github.assertAllMet();
  }

  @Test
  void githubAppFindsItsInstallationAndCachesTheTokenUntilShortlyBeforeExpiry(@TempDir Path dir)
      throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    Credentials app = Credentials.app("123", TestSupport.writePkcs1Pem(dir.resolve("k.pem"), keys));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(github.target(), RunnerScope.of("repo", "octo/hello"), app)
            .clock(clock)
            .sleeper(new TestSupport.RecordingSleeper(clock))
            .build();
    String jwtAtStart = ((GitHubAppCredentials) app).jwt(clock.instant()).reveal();
    String registration = "{\"token\":\"T\",\"expires_at\":\"2026-01-01T02:00:00Z\"}";
    github
        .expect("GET", "/repos/octo/hello/installation", jwtAtStart, null, 200, "{\"id\":77}")
        .expect(
            "POST",
            "/app/installations/77/access_tokens",
            jwtAtStart,
            null,
            201,
            "{\"token\":\"ghs_first\",\"expires_at\":\"2026-01-01T01:00:00Z\"}")
        .expect(
            "POST",
            "/repos/octo/hello/actions/runners/registration-token",
            "ghs_first",
            null,
            201,
            registration)
        .expect(
            "POST",
            "/repos/octo/hello/actions/runners/registration-token",
            "ghs_first",
            null,
            201,
            registration);
    client.createRegistrationToken();
    clock.advance(Duration.ofMinutes(54));
    client.createRegistrationToken();
    github.assertAllMet();

    clock.advance(Duration.ofMinutes(1)); // 5 minutes before expiry: renew
    String jwtLater = ((GitHubAppCredentials) app).jwt(clock.instant()).reveal();
    github
        .expect(
            "POST",
            "/app/installations/77/access_tokens",
            jwtLater,
            null,
            201,
            "{\"token\":\"ghs_second\",\"expires_at\":\"2026-01-01T02:00:00Z\"}")
        .expect(
            "POST",
            "/repos/octo/hello/actions/runners/registration-token",
            "ghs_second",
            null,
            201,
            registration);
    client.createRegistrationToken();
    github.assertAllMet();
  }

  @Test
  void organizationAppsAskTheOrgInstallation(@TempDir Path dir) throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    Credentials app =
        Credentials.app("Iv1.client", TestSupport.writePkcs8Pem(dir.resolve("k.pem"), keys));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(github.target(), RunnerScope.of("org", "octo"), app)
            .clock(clock)
            .build();
    String jwt = ((GitHubAppCredentials) app).jwt(clock.instant()).reveal();
    github
        .expect("GET", "/orgs/octo/installation", jwt, null, 200, "{\"id\":5}")
        .expect(
            "POST",
            "/app/installations/5/access_tokens",
            jwt,
            null,
            201,
            "{\"token\":\"ghs_org\",\"expires_at\":\"2026-01-01T01:00:00Z\"}")
        .expect(
            "GET",
            "/orgs/octo/actions/runners/9",
            "ghs_org",
            null,
            404,
            "{\"message\":\"Not Found\"}");
    assertTrue(client.getRunner(9).isEmpty());
    github.assertAllMet();
  }

  @Test
  void aRejectedInstallationTokenIsNotReused(@TempDir Path dir) throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    Credentials app = Credentials.app("123", TestSupport.writePkcs8Pem(dir.resolve("k.pem"), keys));
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(github.target(), RunnerScope.of("repo", "octo/hello"), app)
            .clock(clock)
            .build();
    String jwt = ((GitHubAppCredentials) app).jwt(clock.instant()).reveal();
    String path = "/repos/octo/hello/actions/runners/registration-token";
    github
        .expect("GET", "/repos/octo/hello/installation", jwt, null, 200, "{\"id\":77}")
        .expect(
            "POST",
            "/app/installations/77/access_tokens",
            jwt,
            null,
            201,
            "{\"token\":\"ghs_revoked\",\"expires_at\":\"2026-01-01T01:00:00Z\"}")
        .expect("POST", path, "ghs_revoked", null, 401, "{\"message\":\"Bad credentials\"}")
        .expect("GET", "/repos/octo/hello/installation", jwt, null, 200, "{\"id\":78}")
        .expect(
            "POST",
            "/app/installations/78/access_tokens",
            jwt,
            null,
            201,
            "{\"token\":\"ghs_fresh\",\"expires_at\":\"2026-01-01T01:00:00Z\"}")
        .expect(
            "POST",
            path,
            "ghs_fresh",
            null,
            201,
            "{\"token\":\"T\",\"expires_at\":\"2026-01-01T01:00:00Z\"}");
    GitHubAuthenticationException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            GitHubAuthenticationException.class, client::createRegistrationToken);
    assertFalse(e.getMessage().contains("ghs_revoked"), e.getMessage());
    assertEquals("T", client.createRegistrationToken().token().reveal());
    github.assertAllMet();
  }
}
