package dev.microrunner.github.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code POST SCOPE/actions/runners/generate-jitconfig} refuses the bodies GitHub's OpenAPI
 * description refuses. The contract modelled is the request body schema in {@code
 * generated/api.github.com.json} (repositories, organizations) and {@code generated/ghec.json}
 * (enterprises) of the npm package {@code @octokit/openapi} 23.0.2 (github.com/octokit/openapi): an
 * object with {@code name} (string), {@code runner_group_id} (integer) and {@code labels} (array of
 * 1 to 100 strings) required, and {@code work_folder} (string) optional; other keys are not
 * forbidden.
 */
class JitConfigValidationTest {

  private static final String PAT = "ghp_validationTestToken000000000";
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

  private HttpResponse<String> post(String scope, String body) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(sim.apiUrl().resolve(scope + "/actions/runners/generate-jitconfig"))
            .header("Authorization", "Bearer " + PAT)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static ObjectNode valid() {
    ObjectNode body = JSON.createObjectNode();
    body.put("name", "ubuntu-krun-1");
    body.put("runner_group_id", 1);
    body.putArray("labels").add("krun");
    return body;
  }

  /** The refusal's message, after checking it is GitHub's 422 and registered nothing. */
  private String refused(String scope, String body) throws Exception {
    HttpResponse<String> response = post(scope, body);
    assertEquals(422, response.statusCode(), response::body);
    JsonNode error = JSON.readTree(response.body());
    assertEquals("422", error.path("status").asText());
    assertTrue(sim.state().runners().isEmpty(), "a refused body registered a runner");
    String message = error.path("message").asText();
    assertTrue(message.startsWith("Invalid request.\n\n"), message);
    return message.substring("Invalid request.\n\n".length());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/repos/octo/hello", "/orgs/octo", "/enterprises/big"})
  void wrongTypesAreRefusedNamingTheProperty(String scope) throws Exception {
    ObjectNode labels = valid();
    labels.putArray("labels").add("krun").add(7);
    assertEquals("For 'items', 7 is not a string.", refused(scope, labels.toString()));

    ObjectNode name = valid().put("name", 12345);
    assertEquals("For 'properties/name', 12345 is not a string.", refused(scope, name.toString()));

    ObjectNode group = valid().put("runner_group_id", 1.5);
    assertEquals(
        "For 'properties/runner_group_id', 1.5 is not an integer.",
        refused(scope, group.toString()));
    ObjectNode groupAsText = valid().put("runner_group_id", "1");
    assertEquals(
        "For 'properties/runner_group_id', \"1\" is not an integer.",
        refused(scope, groupAsText.toString()));

    ObjectNode workFolder = valid().put("work_folder", 3);
    assertEquals(
        "For 'properties/work_folder', 3 is not a string.", refused(scope, workFolder.toString()));

    ObjectNode labelsNotAnArray = valid().put("labels", "krun");
    assertEquals(
        "For 'properties/labels', \"krun\" is not an array.",
        refused(scope, labelsNotAnArray.toString()));

    ObjectNode nullName = valid().putNull("name");
    assertEquals(
        "For 'properties/name', nil is not a string.", refused(scope, nullName.toString()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/repos/octo/hello", "/orgs/octo", "/enterprises/big"})
  void missingRequiredPropertiesAreEachNamed(String scope) throws Exception {
    assertEquals(
        """
        "name" wasn't supplied.
        "runner_group_id" wasn't supplied.
        "labels" wasn't supplied.\
        """,
        refused(scope, "{}"));
    ObjectNode noLabels = valid();
    noLabels.remove("labels");
    assertEquals("\"labels\" wasn't supplied.", refused(scope, noLabels.toString()));
    // An empty body is an empty object to GitHub.
    assertEquals(3, refused(scope, "").lines().count());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/repos/octo/hello", "/orgs/octo", "/enterprises/big"})
  void labelsMustBeOneToAHundred(String scope) throws Exception {
    ObjectNode none = valid();
    none.putArray("labels");
    assertEquals("At least 1 item is required; 0 were supplied.", refused(scope, none.toString()));

    ObjectNode tooMany = valid();
    ArrayNode labels = tooMany.putArray("labels");
    for (int i = 1; i <= 101; i++) {
      labels.add("label-" + i);
    }
    assertEquals(
        "No more than 100 items are allowed; 101 were supplied.",
        refused(scope, tooMany.toString()));

    labels.remove(100);
    HttpResponse<String> hundred = post(scope, tooMany.toString());
    assertEquals(201, hundred.statusCode(), hundred::body);
    assertEquals(100, sim.state().runners().get(0).labels().size());
  }

  @ParameterizedTest
  @ValueSource(strings = {"[]", "\"ubuntu-krun-1\"", "7", "null"})
  void aBodyThatIsNotAnObjectIsRefused(String body) throws Exception {
    String shown = body.equals("null") ? "nil" : body;
    assertEquals(shown + " is not an object.", refused("/orgs/octo", body));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{", "{\"name\": }", "name=x"})
  void malformedJsonIsABadRequest(String body) throws Exception {
    HttpResponse<String> response = post("/orgs/octo", body);
    assertEquals(400, response.statusCode());
    JsonNode error = JSON.readTree(response.body());
    assertEquals("Problems parsing JSON", error.path("message").asText());
    assertEquals("400", error.path("status").asText());
  }

  @ParameterizedTest
  @ValueSource(strings = {"/repos/octo/hello", "/orgs/octo", "/enterprises/big"})
  void everyViolationIsListedAndUnknownKeysAreAllowed(String scope) throws Exception {
    ObjectNode body = JSON.createObjectNode().put("name", 1).put("work_folder", false);
    assertEquals(
        """
        For 'properties/name', 1 is not a string.
        For 'properties/work_folder', false is not a string.
        "runner_group_id" wasn't supplied.
        "labels" wasn't supplied.\
        """,
        refused(scope, body.toString()));

    HttpResponse<String> accepted = post(scope, valid().put("colour", "blue").toString());
    assertEquals(201, accepted.statusCode(), accepted::body);
  }
}
