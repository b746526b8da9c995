package dev.microrunner.github.sim.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestBodySchemaTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  @Test
  void valuesAreShownTheWayGitHubsRubyShowsThem() throws Exception {
    assertEquals("nil", RequestBodySchema.inspect(json("null")));
    assertEquals("\"a \\\"b\\\"\"", RequestBodySchema.inspect(json("\"a \\\"b\\\"\"")));
    assertEquals("[1, 2.5, true]", RequestBodySchema.inspect(json("[1, 2.5, true]")));
    assertEquals(
        "{\"labels\" => [\"krun\", nil]}",
        RequestBodySchema.inspect(json("{\"labels\": [\"krun\", null]}")));
  }

  @Test
  void forbiddenKeysAreNamedWhenTheSchemaSaysSo() throws Exception {
    RequestBodySchema schema =
        new RequestBodySchema(
            json(
                "{\"type\":\"object\",\"additionalProperties\":false,"
                    + "\"properties\":{\"name\":{\"type\":\"string\"}}}"));
    assertEquals(
        List.of("\"labels[]\" is not a permitted key."),
        schema.violations(json("{\"name\":\"x\",\"labels[]\":\"krun\"}")));
    assertTrue(schema.violations(json("{\"name\":\"x\"}")).isEmpty());
  }

  @Test
  void aConformingBodyIsReturnedAndAViolationIsA422() throws Exception {
    JsonNode body = json("{\"name\":\"r\",\"runner_group_id\":1,\"labels\":[\"krun\"]}");
    assertEquals(body, RequestBodySchema.GENERATE_JITCONFIG.check(body));
    HttpError refusal =
        assertThrows(HttpError.class, () -> RequestBodySchema.GENERATE_JITCONFIG.check(json("{}")));
    assertEquals(422, refusal.status());
    assertTrue(refusal.getMessage().startsWith("Invalid request.\n\n"), refusal.getMessage());
  }

  @Test
  void aSchemaWithAKeywordItDoesNotCheckIsRefused() throws Exception {
    IllegalArgumentException nested =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new RequestBodySchema(
                    json(
                        "{\"type\":\"object\",\"properties\":"
                            + "{\"name\":{\"type\":\"string\",\"maxLength\":64}}}")));
    assertTrue(nested.getMessage().contains("maxLength"), nested.getMessage());
    assertTrue(nested.getMessage().contains("/properties/name"), nested.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new RequestBodySchema(json("{\"type\":\"array\",\"items\":{\"enum\":[1]}}")));
    assertThrows(IllegalArgumentException.class, () -> new RequestBodySchema(json("{\"type\":7}")));
  }
}
