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

  /** GitHub's error body, see {@link #errorBody}. */
  static Reply error(int status, String message) {
    return of(status, errorBody(status, message, DOCS));
  }

  /**
   * {@code {"message": ..., "documentation_url": ..., "status": "404"}}: GitHub's {@code
   * basic-error}, whose {@code status} is a string.
   */
  static ObjectNode errorBody(int status, String message, String documentationUrl) {
    return JSON.createObjectNode()
        .put("message", message)
        .put("documentation_url", documentationUrl)
        .put("status", String.valueOf(status));
  }
}
