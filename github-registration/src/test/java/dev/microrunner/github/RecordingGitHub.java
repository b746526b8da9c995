package dev.microrunner.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict GitHub stand-in: every request must be the next expected one, exactly (method, path,
 * query, GitHub's headers, JSON body); it answers with the scripted reply. Mismatches are collected
 * and reported by {@link #assertAllMet()}.
 */
final class RecordingGitHub implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  record Expectation(
      String method, String pathAndQuery, String bearer, String jsonBody, Reply reply) {}

  record Reply(int status, Map<String, String> headers, String body) {}

  record Seen(String method, String pathAndQuery, String authorization) {}

  private final HttpServer server;
  private final Deque<Expectation> expected = new ArrayDeque<>();
  private final List<String> mismatches = new ArrayList<>();
  private final List<Seen> seen = new ArrayList<>();

  RecordingGitHub() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  GitHubTarget target() {
    return GitHubTarget.of(url());
  }

  /** Expects a request; {@code jsonBody} null means no body. */
  RecordingGitHub expect(
      String method,
      String pathAndQuery,
      String bearer,
      String jsonBody,
      int status,
      String replyBody) {
    return expect(method, pathAndQuery, bearer, jsonBody, new Reply(status, Map.of(), replyBody));
  }

  synchronized RecordingGitHub expect(
      String method, String pathAndQuery, String bearer, String jsonBody, Reply reply) {
    expected.add(new Expectation(method, pathAndQuery, bearer, jsonBody, reply));
    return this;
  }

  synchronized List<Seen> seen() {
    return List.copyOf(seen);
  }

  synchronized void assertAllMet() {
    List<String> problems = new ArrayList<>(mismatches);
    expected.forEach(
        e -> problems.add("expected but never received: " + e.method() + " " + e.pathAndQuery()));
    if (!problems.isEmpty()) {
      throw new AssertionError(String.join("\n", problems));
    }
  }

  private synchronized void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      String raw = exchange.getRequestURI().getRawPath();
      String query = exchange.getRequestURI().getRawQuery();
      String pathAndQuery = query == null ? raw : raw + "?" + query;
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String authorization = exchange.getRequestHeaders().getFirst("Authorization");
      seen.add(new Seen(method, pathAndQuery, authorization));
      Expectation next = expected.poll();
      if (next == null) {
        mismatches.add("unexpected request " + method + " " + pathAndQuery);
        reply(exchange, new Reply(599, Map.of(), "{}"));
        return;
      }
      String call = method + " " + pathAndQuery;
      if (!method.equals(next.method()) || !pathAndQuery.equals(next.pathAndQuery())) {
        mismatches.add(
            "expected " + next.method() + " " + next.pathAndQuery() + " but got " + call);
      }
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("Accept", "application/vnd.github+json");
      headers.put("X-GitHub-Api-Version", "2022-11-28");
      headers.put("User-Agent", "microrunner");
      headers.put("Authorization", "Bearer " + next.bearer());
      if (next.jsonBody() != null) {
        headers.put("Content-Type", "application/json");
      }
      headers.forEach(
          (name, value) -> {
            List<String> values = exchange.getRequestHeaders().get(name);
            if (values == null || values.size() != 1 || !values.get(0).equals(value)) {
              mismatches.add(
                  call + ": header " + name + " expected [" + value + "] but was " + values);
            }
          });
      if (next.jsonBody() == null) {
        if (!body.isEmpty()) {
          mismatches.add(call + ": expected no body but got " + body);
        }
      } else {
        JsonNode actual = JSON.readTree(body.isEmpty() ? "null" : body);
        JsonNode wanted = JSON.readTree(next.jsonBody());
        if (!wanted.equals(actual)) {
          mismatches.add(call + ": body expected " + wanted + " but was " + actual);
        }
      }
      reply(exchange, next.reply());
    }
  }

  private void reply(HttpExchange exchange, Reply reply) throws IOException {
    reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
    if (reply.body() == null) {
      exchange.sendResponseHeaders(reply.status(), -1);
      return;
    }
    byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    exchange.sendResponseHeaders(reply.status(), bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
