package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * An answer: the status, a JSON body ({@code null}: none) and headers added to the response.
 *
 * @param headers in the order they are added
 */
record Reply(int status, JsonNode body, Map<String, String> headers) {

  /** Where GitHub's error bodies point. */
  static final String DOCS = "https://docs.github.com/rest";

  static Reply of(int status, JsonNode body) {
    return new Reply(status, body, Map.of());
  }

  /** 204, no body. */
  static Reply noContent() {
    return new Reply(204, null, Map.of());
  }

  static Reply notFound() {
    return error(404, "Not Found");
  }

  /** GitHub's error body: {@code {"message": ..., "documentation_url": ...}}. */
  static Reply error(int status, String message) {
    return of(status, errorBody(message));
  }

  static ObjectNode errorBody(String message) {
    return JSON.createObjectNode().put("message", message).put("documentation_url", DOCS);
  }
}
