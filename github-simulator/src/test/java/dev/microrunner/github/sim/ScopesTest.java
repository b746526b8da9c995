package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.TestSupport;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Only declared repositories, organizations and enterprises exist; the rest is GitHub's 404. */
class ScopesTest {

  private static final String PAT = "ghp_scopesTestToken0000000000000";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newHttpClient();
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    sim.addOrganization("octo");
    sim.addEnterprise("big");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(sim.apiUrl().resolve(path));
    request.header("Authorization", "Bearer " + token);
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private GitHubRunnerClient client(String scope, String principal) {
    return GitHubRunnerClient.builder(
            GitHubTarget.of(sim.apiUrl().toString()),
            RunnerScope.of(scope, principal),
            Credentials.pat(Secret.of(PAT)))
        .build();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"/repos/octo/nope", "/repos/nope/hello", "/orgs/nope", "/enterprises/nope"})
  void everyRunnerEndpointOfAnUndeclaredScopeIsNotFound(String scope) throws Exception {
    String jit = "{\"name\":\"r1\",\"runner_group_id\":1,\"labels\":[\"krun\"]}";
    List<HttpResponse<String>> answers =
        List.of(
            send("POST", scope + "/actions/runners/registration-token", PAT, null),
            send("POST", scope + "/actions/runners/remove-token", PAT, null),
            send("POST", scope + "/actions/runners/generate-jitconfig", PAT, jit),
            send("GET", scope + "/actions/runners", PAT, null),
            send("GET", scope + "/actions/runners/1", PAT, null),
            send("DELETE", scope + "/actions/runners/1", PAT, null),
            send("GET", scope + "/actions/runner-groups", PAT, null));
    for (HttpResponse<String> answer : answers) {
      assertEquals(404, answer.statusCode(), answer.uri() + ": " + answer.body());
      JsonNode body = JSON.readTree(answer.body());
      assertEquals("Not Found", body.path("message").asText());
      assertEquals("404", body.path("status").asText());
      assertTrue(body.path("documentation_url").asText().startsWith("https://docs.github.com/"));
    }
    assertTrue(sim.state().runners().isEmpty(), "an undeclared scope got a runner");
  }

  @Test
  void theClientSeesAnUndeclaredScopeAsNotFound() throws Exception {
    GitHubNotFoundException e =
        assertThrows(
            GitHubNotFoundException.class,
            () -> client("repo", "octo/nope").createRegistrationToken());
    assertTrue(e.getMessage().contains("repository octo/nope was not found"), e.getMessage());
    assertThrows(
        GitHubNotFoundException.class,
        () -> client("org", "nope").generateJitConfig(new JitRequest("r1", 1, List.of("krun"))));
    assertThrows(GitHubNotFoundException.class, () -> client("enterprise", "nope").listRunners());

    client("repo", "octo/hello").createRegistrationToken();
    client("org", "octo").generateJitConfig(new JitRequest("r1", 1, List.of("krun")));
    assertEquals(1, client("enterprise", "big").runnerGroupId("Default"));
  }

  @Test
  void badCredentialsAre401WhetherOrNotTheScopeExists() throws Exception {
    assertEquals(401, send("GET", "/orgs/nope/actions/runners", "wrong", null).statusCode());
    assertEquals(401, send("GET", "/orgs/octo/actions/runners", "wrong", null).statusCode());
  }

  @Test
  void namesAreCaseInsensitiveAsOnGitHub() throws Exception {
    assertEquals(200, send("GET", "/repos/Octo/Hello/actions/runners", PAT, null).statusCode());
    assertEquals(200, send("GET", "/orgs/OCTO/actions/runners", PAT, null).statusCode());
    assertEquals(200, send("GET", "/enterprises/Big/actions/runners", PAT, null).statusCode());
  }

  @Test
  void aRepositoryDoesNotMakeItsOwnerAnOrganization() throws Exception {
    sim.addRepository("solo/project");
    assertEquals(200, send("GET", "/repos/solo/project/actions/runners", PAT, null).statusCode());
    assertEquals(404, send("GET", "/orgs/solo/actions/runners", PAT, null).statusCode());
  }

  @Test
  void appsAreInstalledOnDeclaredRepositoriesAndOrganizationsOnly(@TempDir Path dir)
      throws Exception {
    KeyPair keys = TestSupport.rsaKeyPair();
    sim.registerApp("77", keys.getPublic());
    Credentials app = Credentials.app("77", TestSupport.writePkcs1Pem(dir.resolve("k.pem"), keys));
    GitHubRunnerClient declared =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()), RunnerScope.of("org", "octo"), app)
            .build();
    declared.createRegistrationToken();
    GitHubRunnerClient undeclared =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()), RunnerScope.of("org", "nope"), app)
            .build();
    GitHubNotFoundException e =
        assertThrows(GitHubNotFoundException.class, undeclared::createRegistrationToken);
    assertTrue(e.getMessage().contains("/orgs/nope/installation"), e.getMessage());
  }

  @Test
  void namesThatGitHubWouldNotHaveAreRefused() {
    for (String repository : List.of("octo", "octo/", "/hello", "octo/hello/x", "oc to/hello")) {
      assertThrows(IllegalArgumentException.class, () -> sim.addRepository(repository), repository);
    }
    assertThrows(IllegalArgumentException.class, () -> sim.addRepository("octo/.."));
    assertThrows(IllegalArgumentException.class, () -> sim.addOrganization("octo/hello"));
    assertThrows(IllegalArgumentException.class, () -> sim.addOrganization(""));
    assertThrows(IllegalArgumentException.class, () -> sim.addEnterprise("big corp"));
    sim.addRepository("octo-cat/hello.world_2");
    sim.addOrganization("octo-cat");
  }
}
