package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request body's JSON schema, from GitHub's OpenAPI description, and GitHub's refusal of a body
 * that does not conform: 422 {@code "Invalid request.\n\n"} followed by one line per violation.
 *
 * <p>It knows the keywords those schemas use for the bodies the simulator takes: {@code type},
 * {@code required}, {@code properties}, {@code additionalProperties: false}, {@code items}, {@code
 * minItems} and {@code maxItems}; a schema with any other keyword is refused when loaded, so that a
 * constraint is never silently skipped. A JSON-schema library would check more keywords than these
 * schemas have and word its findings its own way, not GitHub's.
 *
 * <p>The wording is GitHub's where GitHub's answers were seen: {@code "name" wasn't supplied.},
 * {@code For 'properties/name', 12345 is not a string.}, {@code For 'items', nil is not a string.},
 * {@code "x" is not a permitted key.}, {@code No more than 100 items are allowed; 101 were
 * supplied.}, values shown the way GitHub's Ruby shows them ({@code nil}, {@code {"a" => 1}}). The
 * minItems line mirrors the maxItems one; no answer of GitHub's to it was found.
 */
final class RequestBodySchema {

  private static final Set<String> KNOWN_KEYWORDS =
      Set.of(
          "$comment",
          "type",
          "required",
          "properties",
          "additionalProperties",
          "items",
          "minItems",
          "maxItems");

  private static final Map<String, String> TYPE_NAMES =
      Map.of(
          "object", "an object",
          "array", "an array",
          "string", "a string",
          "integer", "an integer",
          "number", "a number",
          "boolean", "a boolean",
          "null", "null");

  /** {@code POST SCOPE/actions/runners/generate-jitconfig}. */
  static final RequestBodySchema GENERATE_JITCONFIG = load("generate-jitconfig.schema.json");

  private final JsonNode schema;

  RequestBodySchema(JsonNode schema) {
    checkKeywords(schema, "");
    this.schema = schema;
  }

  /** A schema from this package's resources. */
  static RequestBodySchema load(String resource) {
    try (InputStream in = RequestBodySchema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("no schema resource " + resource);
      }
      return new RequestBodySchema(JSON.readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema resource " + resource, e);
    }
  }

  /** {@code body} when it conforms; else GitHub's 422 naming every violation. */
  JsonNode check(JsonNode body) throws HttpError {
    List<String> violations = violations(body);
    if (!violations.isEmpty()) {
      throw new HttpError(422, "Invalid request.\n\n" + String.join("\n", violations));
    }
    return body;
  }

  /** What in {@code body} does not conform, one line each, in GitHub's words. */
  List<String> violations(JsonNode body) {
    List<String> found = new ArrayList<>();
    check(schema, body, "", found);
    return found;
  }

  private static void check(JsonNode schema, JsonNode value, String path, List<String> found) {
    JsonNode type = schema.get("type");
    if (type != null && !hasType(value, type.asText())) {
      String prefix = path.isEmpty() ? "" : "For '" + path + "', ";
      found.add(prefix + inspect(value) + " is not " + TYPE_NAMES.get(type.asText()) + ".");
      return;
    }
    if (value.isObject()) {
      checkObject(schema, value, found);
    } else if (value.isArray()) {
      checkArray(schema, value, found);
    }
  }

  private static void checkObject(JsonNode schema, JsonNode value, List<String> found) {
    JsonNode properties = schema.path("properties");
    for (Map.Entry<String, JsonNode> property : properties.properties()) {
      if (value.has(property.getKey())) {
        check(
            property.getValue(),
            value.get(property.getKey()),
            "properties/" + property.getKey(),
            found);
      }
    }
    if (schema.path("additionalProperties").isBoolean()
        && !schema.path("additionalProperties").asBoolean()) {
      for (Map.Entry<String, JsonNode> field : value.properties()) {
        if (!properties.has(field.getKey())) {
          found.add(quote(field.getKey()) + " is not a permitted key.");
        }
      }
    }
    for (JsonNode required : schema.path("required")) {
      if (!value.has(required.asText())) {
        found.add(quote(required.asText()) + " wasn't supplied.");
      }
    }
  }

  private static void checkArray(JsonNode schema, JsonNode value, List<String> found) {
    int size = value.size();
    JsonNode minItems = schema.get("minItems");
    if (minItems != null && size < minItems.asInt()) {
      found.add(
          "At least "
              + minItems.asInt()
              + (minItems.asInt() == 1 ? " item is" : " items are")
              + " required; "
              + size
              + " were supplied.");
    }
    JsonNode maxItems = schema.get("maxItems");
    if (maxItems != null && size > maxItems.asInt()) {
      found.add(
          "No more than " + maxItems.asInt() + " items are allowed; " + size + " were supplied.");
    }
    JsonNode items = schema.get("items");
    if (items != null) {
      for (JsonNode item : value) {
        check(items, item, "items", found);
      }
    }
  }

  private static boolean hasType(JsonNode value, String type) {
    return switch (type) {
      case "object" -> value.isObject();
      case "array" -> value.isArray();
      case "string" -> value.isTextual();
      case "integer" -> value.isIntegralNumber();
      case "number" -> value.isNumber();
      case "boolean" -> value.isBoolean();
      case "null" -> value.isNull();
      default -> throw new IllegalStateException("unknown schema type " + type);
    };
  }

  /** The value as GitHub's Ruby shows it: {@code nil}, {@code "text"}, {@code {"a" => [1, 2]}}. */
  static String inspect(JsonNode value) {
    if (value.isNull()) {
      return "nil";
    }
    if (value.isTextual()) {
      return quote(value.asText());
    }
    if (value.isArray()) {
      List<String> items = new ArrayList<>();
      value.forEach(item -> items.add(inspect(item)));
      return "[" + String.join(", ", items) + "]";
    }
    if (value.isObject()) {
      List<String> entries = new ArrayList<>();
      for (Map.Entry<String, JsonNode> entry : value.properties()) {
        entries.add(quote(entry.getKey()) + " => " + inspect(entry.getValue()));
      }
      return "{" + String.join(", ", entries) + "}";
    }
    return value.toString();
  }

  private static String quote(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a string always serializes", e);
    }
  }

  /** Refuses a schema with keywords this class would not check. */
  private static void checkKeywords(JsonNode schema, String path) {
    for (Map.Entry<String, JsonNode> field : schema.properties()) {
      String keyword = field.getKey();
      if (!KNOWN_KEYWORDS.contains(keyword)) {
        throw new IllegalArgumentException(
            "schema keyword '" + keyword + "' at '" + path + "' is not supported");
      }
    }
    if (schema.has("type") && !TYPE_NAMES.containsKey(schema.get("type").asText())) {
      throw new IllegalArgumentException(
          "schema type '" + schema.get("type") + "' at '" + path + "' is not supported");
    }
    for (Map.Entry<String, JsonNode> property : schema.path("properties").properties()) {
      checkKeywords(property.getValue(), path + "/properties/" + property.getKey());
    }
    if (schema.has("items")) {
      checkKeywords(schema.get("items"), path + "/items");
    }
  }
}
