package dev.microrunner.github.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The simulated runner's HTTP calls to the simulator. */
final class SimHttp {

  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Long polls last up to 10 s; leave room. */
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(40);

  private SimHttp() {}

  static HttpResponse<String> post(URI uri, String authorization, JsonNode body)
      throws IOException, InterruptedException {
    return send("POST", uri, authorization, body);
  }

  static HttpResponse<String> send(String method, URI uri, String authorization, JsonNode body)
      throws IOException, InterruptedException {
    return CLIENT.send(
        request(method, uri, authorization, body), HttpResponse.BodyHandlers.ofString());
  }

  static CompletableFuture<HttpResponse<String>> sendAsync(
      String method, URI uri, String authorization, JsonNode body) {
    return CLIENT.sendAsync(
        request(method, uri, authorization, body), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest request(String method, URI uri, String authorization, JsonNode body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(REQUEST_TIMEOUT)
            .header("Authorization", authorization)
            .header("Accept", "application/json");
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    }
    return request.build();
  }
}
