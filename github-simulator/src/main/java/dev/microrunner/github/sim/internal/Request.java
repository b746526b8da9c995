package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A request as the routes see it. Everything is read when asked for, so that what a malformed
 * request fails on, and when, is up to the endpoint.
 */
final class Request {

  /** The most of a body that is read; the rest is ignored (and the JSON then fails to parse). */
  static final int MAX_BODY_BYTES = 1024 * 1024;

  private final HttpExchange exchange;
  private Map<String, String> query;

  Request(HttpExchange exchange) {
    this.exchange = exchange;
  }

  /** {@code GET}, {@code POST}, ... as sent. */
  String method() {
    return exchange.getRequestMethod();
  }

  /** The client's IP address, which GitHub counts requests without credentials against. */
  String clientAddress() {
    return exchange.getRemoteAddress().getAddress().getHostAddress();
  }

  /** The path, still percent-encoded. */
  String path() {
    return exchange.getRequestURI().getRawPath();
  }

  /** The query parameters, decoded, in the order sent (the last of a repeated name wins). */
  Map<String, String> query() {
    if (query == null) {
      Map<String, String> values = new LinkedHashMap<>();
      String raw = exchange.getRequestURI().getRawQuery();
      if (raw != null && !raw.isEmpty()) {
        for (String pair : raw.split("&", -1)) {
          int eq = pair.indexOf('=');
          String key = eq < 0 ? pair : pair.substring(0, eq);
          String value = eq < 0 ? "" : pair.substring(eq + 1);
          values.put(
              URLDecoder.decode(key, StandardCharsets.UTF_8),
              URLDecoder.decode(value, StandardCharsets.UTF_8));
        }
      }
      query = Collections.unmodifiableMap(values);
    }
    return query;
  }

  /** A number from the query, {@code fallback} when absent; 422 when it is not a number. */
  int intParam(String name, int fallback) throws HttpError {
    String value = query().get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new HttpError(422, "Invalid request.\n\n\"" + name + "\" is not a number.");
    }
  }

  /** The JSON body; an empty body is {@code {}}, one that does not parse a 400. Read it once. */
  JsonNode body() throws IOException, HttpError {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES);
      if (bytes.length == 0) {
        return JSON.createObjectNode();
      }
      try {
        return JSON.readTree(bytes);
      } catch (IOException e) {
        throw new HttpError(400, "Problems parsing JSON");
      }
    }
  }

  /** The token of {@code Authorization: Bearer T} (or {@code bearer}, {@code token}). */
  Optional<String> bearer() {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null) {
      return Optional.empty();
    }
    for (String scheme : List.of("Bearer ", "bearer ", "token ")) {
      if (header.startsWith(scheme)) {
        return Optional.of(header.substring(scheme.length()).trim());
      }
    }
    return Optional.empty();
  }

  /** The token of {@code Authorization: RemoteAuth T}, as config.sh sends it; else a 401. */
  String remoteAuth() throws HttpError {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.startsWith("RemoteAuth ")) {
      throw new HttpError(401, "Bad credentials");
    }
    return header.substring("RemoteAuth ".length()).trim();
  }
}
