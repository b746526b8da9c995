package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runner group listing has every field that the {@code runner-groups-org} and {@code
 * runner-groups-enterprise} schemas of {@code @octokit/openapi} 23.0.2 mark required ({@code
 * generated/api.github.com.json} and {@code generated/ghec.json}); {@code runners_url} leads to the
 * group's runners.
 */
class RunnerGroupsTest {

  private static final String PAT = "ghp_runnerGroupsTestToken00000000";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> ORG_REQUIRED =
      List.of(
          "id",
          "name",
          "visibility",
          "default",
          "runners_url",
          "inherited",
          "allows_public_repositories");
  private static final List<String> ENTERPRISE_REQUIRED =
      List.of("id", "name", "visibility", "allows_public_repositories", "default", "runners_url");

  private final HttpClient http = HttpClient.newHttpClient();
  private GitHubSimulator sim;

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addOrganization("octo");
    sim.addEnterprise("big");
  }

  @AfterEach
  void stop() {
    sim.close();
  }

  private JsonNode get(URI uri) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + PAT).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response::body);
    return JSON.readTree(response.body());
  }

  @Test
  void organizationGroupsHaveEveryRequiredFieldAndLeadToTheirRunners() throws Exception {
    long pool = sim.addRunnerGroup("krun-pool");
    GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("org", "octo"),
                Credentials.pat(Secret.of(PAT)))
            .build();
    client.generateJitConfig(new JitRequest("in-pool", pool, List.of("krun")));
    client.generateJitConfig(new JitRequest("in-default", 1, List.of("krun")));

    JsonNode listing = get(sim.apiUrl().resolve("/orgs/octo/actions/runner-groups"));
    assertEquals(2, listing.path("total_count").asInt());
    for (JsonNode group : listing.path("runner_groups")) {
      for (String field : ORG_REQUIRED) {
        assertTrue(group.has(field), () -> field + " missing in " + group);
      }
      assertTrue(group.path("id").isNumber());
      assertTrue(group.path("inherited").isBoolean());
    }
    JsonNode poolGroup = listing.path("runner_groups").get(1);
    assertEquals("krun-pool", poolGroup.path("name").asText());
    String runnersUrl = poolGroup.path("runners_url").asText();
    assertEquals(
        sim.apiUrl() + "/orgs/octo/actions/runner-groups/" + pool + "/runners", runnersUrl);

    JsonNode runners = get(URI.create(runnersUrl));
    assertEquals(1, runners.path("total_count").asInt());
    assertEquals("in-pool", runners.path("runners").get(0).path("name").asText());
  }

  @Test
  void enterpriseGroupsHaveTheEnterpriseSchemasFields() throws Exception {
    JsonNode listing = get(sim.apiUrl().resolve("/enterprises/big/actions/runner-groups"));
    JsonNode group = listing.path("runner_groups").get(0);
    for (String field : ENTERPRISE_REQUIRED) {
      assertTrue(group.has(field), () -> field + " missing in " + group);
    }
    assertFalse(group.has("inherited"), "not a field of runner-groups-enterprise");
    assertEquals(
        sim.apiUrl() + "/enterprises/big/actions/runner-groups/1/runners",
        group.path("runners_url").asText());
    assertEquals(
        0, get(URI.create(group.path("runners_url").asText())).path("total_count").asInt());
  }
}
