package dev.microrunner.github;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The receiver over real HTTP: every refusal, in the order it checks, and what gets through. */
class WebhookReceiverTest {

  private static final String SECRET = "It's a Secret to Everybody";

  @TempDir Path dir;
  private final List<WorkflowJobEvent> received = new CopyOnWriteArrayList<>();
  private final JobDemand demand = new JobDemand();
  private WebhookReceiver receiver;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    Path secretFile = dir.resolve("webhook-secret");
    Files.writeString(secretFile, SECRET + "\n");
    Files.setPosixFilePermissions(secretFile, PosixFilePermissions.fromString("rw-------"));
    receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.fromFile(secretFile, "webhook secret file"),
            event -> {
              received.add(event);
              demand.apply(event);
            },
            WebhookReceiver.Options.defaults().withMaxBodyBytes(64 * 1024));
  }

  @AfterEach
  void stop() {
    receiver.close();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + receiver.address().getPort() + path);
  }

  static String sign(String secret, byte[] body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
  }

  static String queued(long jobId, String repository, String... labels) {
    StringBuilder list = new StringBuilder();
    for (String label : labels) {
      list.append(list.length() == 0 ? "" : ",").append('"').append(label).append('"');
    }
    return "{\"action\":\"queued\",\"workflow_job\":{\"id\":"
        + jobId
        + ",\"run_id\":"
        + (jobId + 1000)
        + ",\"status\":\"queued\",\"labels\":["
        + list
        + "],\"runner_id\":null,\"runner_name\":null},\"repository\":{\"full_name\":\""
        + repository
        + "\"},\"sender\":{\"login\":\"octocat\"}}";
  }

  private HttpResponse<String> post(String event, String delivery, String signature, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/webhook"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (event != null) {
      request.header("X-GitHub-Event", event);
    }
    if (delivery != null) {
      request.header("X-GitHub-Delivery", delivery);
    }
    if (signature != null) {
      request.header("X-Hub-Signature-256", signature);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> signed(String event, String body) throws Exception {
    return post(
        event,
        UUID.randomUUID().toString(),
        sign(SECRET, body.getBytes(StandardCharsets.UTF_8)),
        body);
  }

  @Test
  void aSignedWorkflowJobIsAcceptedAndHandedOn() throws Exception {
    HttpResponse<String> response =
        signed("workflow_job", queued(7, "octo/hello", "self-hosted", "krun"));

    assertEquals(202, response.statusCode(), response.body());
    assertEquals(1, received.size());
    WorkflowJobEvent event = received.get(0);
    assertEquals("queued", event.action());
    assertEquals(7, event.jobId());
    assertEquals(1007, event.runId());
    assertEquals("octo/hello", event.repository());
    assertEquals(List.of("self-hosted", "krun"), event.labels());
    assertEquals(Optional.empty(), event.runnerName());
    assertEquals(1, receiver.counters().accepted());
    assertEquals(0, receiver.counters().refused());
  }

  @Test
  void aMissingWrongOrOtherSecretsSignatureIsRefusedAndChangesNothing() throws Exception {
    String body = queued(1, "octo/hello", "self-hosted");
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String good = sign(SECRET, bytes);
    String flipped = good.substring(0, good.length() - 1) + (good.endsWith("0") ? "1" : "0");

    List<String> forged =
        List.of(
            sign("another secret", bytes),
            flipped,
            "sha256=",
            "sha256=zz",
            good.replace("sha256=", "sha1="),
            good.substring(0, good.length() - 2),
            sign(SECRET, (body + " ").getBytes(StandardCharsets.UTF_8)));
    for (String signature : forged) {
      HttpResponse<String> response =
          post("workflow_job", UUID.randomUUID().toString(), signature, body);
      assertEquals(401, response.statusCode(), signature);
      assertFalse(response.body().contains(SECRET));
    }
    assertEquals(401, post("workflow_job", UUID.randomUUID().toString(), null, body).statusCode());

    assertTrue(received.isEmpty());
    assertEquals(0, demand.queuedFor(Set.of("self-hosted")), "a forged delivery changes nothing");
    assertEquals(forged.size() + 1, receiver.counters().badSignature());
  }

  @Test
  void theSignatureIsCheckedBeforeTheBodyIsRead() throws Exception {
    // Not JSON, not signed: the answer is about the signature, so nothing of the body was parsed.
    assertEquals(401, post("workflow_job", "d-1", "sha256=00", "{not json").statusCode());
    assertEquals(0, receiver.counters().malformed());
    // And with a missing delivery id and an unknown event too: the signature decides first.
    assertEquals(401, post("unknown", null, null, "{}").statusCode());
  }

  @Test
  void theComparisonIsConstantTime() throws Exception {
    // The receiver compares with MessageDigest.isEqual, whose time does not depend on where the
    // bytes differ; the source says so, and this keeps it from drifting to Arrays.equals/equals.
    String source =
        Files.readString(
            Path.of("src/main/java/dev/microrunner/github/WebhookReceiver.java"),
            StandardCharsets.UTF_8);
    assertTrue(source.contains("MessageDigest.isEqual(hmacSha256(key, body), presented)"));
    assertFalse(source.contains("Arrays.equals("));
  }

  @Test
  void aPingIsAnsweredWithoutEvent() throws Exception {
    HttpResponse<String> response =
        signed("ping", "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}");
    assertEquals(204, response.statusCode());
    assertEquals(1, receiver.counters().pings());
    assertTrue(received.isEmpty());
  }

  @Test
  void anUnknownEventIsRefusedByName() throws Exception {
    HttpResponse<String> response = signed("push", "{\"ref\":\"refs/heads/main\"}");
    assertEquals(400, response.statusCode());
    assertEquals("unsupported event push", response.body().trim());
    assertEquals(1, receiver.counters().unsupportedEvent());
  }

  @Test
  void aReplayedDeliveryIsRefusedAndAMissingIdToo() throws Exception {
    String body = queued(3, "octo/hello", "self-hosted");
    String signature = sign(SECRET, body.getBytes(StandardCharsets.UTF_8));
    assertEquals(202, post("workflow_job", "delivery-1", signature, body).statusCode());
    assertEquals(409, post("workflow_job", "delivery-1", signature, body).statusCode());
    assertEquals(400, post("workflow_job", null, signature, body).statusCode());

    assertEquals(1, received.size());
    WebhookReceiver.Counters counters = receiver.counters();
    assertEquals(1, counters.replayed());
    assertEquals(1, counters.missingDeliveryId());
  }

  @Test
  void onlyTheLastDeliveryIdsAreRemembered() throws Exception {
    receiver.close();
    receiver =
        WebhookReceiver.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            Secret.of(SECRET),
            received::add,
            WebhookReceiver.Options.defaults().withRememberedDeliveries(2));
    String body = queued(3, "octo/hello", "self-hosted");
    String signature = sign(SECRET, body.getBytes(StandardCharsets.UTF_8));
    for (String id : List.of("a", "b", "c")) {
      assertEquals(202, post("workflow_job", id, signature, body).statusCode());
    }
    assertEquals(409, post("workflow_job", "c", signature, body).statusCode());
    assertEquals(202, post("workflow_job", "a", signature, body).statusCode(), "forgotten");
  }

  @Test
  void malformedJsonAfterAGoodSignatureIsRefused() throws Exception {
    for (String body :
        List.of(
            "{not json",
            "[]",
            "{\"action\":\"queued\"}",
            "{\"action\":\"queued\",\"workflow_job\":{\"id\":\"x\",\"run_id\":1,\"labels\":[]},"
                + "\"repository\":{\"full_name\":\"o/r\"}}")) {
      assertEquals(400, signed("workflow_job", body).statusCode(), body);
    }
    assertEquals(4, receiver.counters().malformed());
    assertTrue(received.isEmpty());
  }

  @Test
  void anOversizedBodyIsRefusedWithOrWithoutContentLength() throws Exception {
    String big = "{\"pad\":\"" + "x".repeat(70 * 1024) + "\"}";
    assertEquals(413, signed("workflow_job", big).statusCode());

    // Chunked: no Content-Length, so only reading with a bound catches it.
    HttpURLConnection connection = (HttpURLConnection) uri("/webhook").toURL().openConnection();
    connection.setRequestMethod("POST");
    connection.setDoOutput(true);
    connection.setChunkedStreamingMode(4096);
    connection.setRequestProperty("X-GitHub-Event", "workflow_job");
    connection.setRequestProperty("X-GitHub-Delivery", "chunked-1");
    byte[] bytes = big.getBytes(StandardCharsets.UTF_8);
    connection.setRequestProperty("X-Hub-Signature-256", sign(SECRET, bytes));
    try (OutputStream out = connection.getOutputStream()) {
      out.write(bytes);
    } catch (IOException e) {
      // The receiver may answer and close before the whole body is sent.
    }
    assertEquals(413, connection.getResponseCode());
    connection.disconnect();

    assertEquals(2, receiver.counters().tooLarge());
    assertTrue(received.isEmpty());
  }

  @Test
  void otherPathsAndMethodsAreRefused() throws Exception {
    assertEquals(
        404,
        http.send(
                HttpRequest.newBuilder(uri("/hooks"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .statusCode());
    HttpResponse<String> get =
        http.send(
            HttpRequest.newBuilder(uri("/webhook")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(405, get.statusCode());
    assertEquals(Optional.of("POST"), get.headers().firstValue("Allow"));
    assertEquals(1, receiver.counters().notFound());
    assertEquals(1, receiver.counters().methodNotAllowed());
  }

  @Test
  void twoHundredQueuedEventsAreHandledAndCountedExactly() throws Exception {
    List<Thread> senders = new CopyOnWriteArrayList<>();
    List<Integer> statuses = new CopyOnWriteArrayList<>();
    for (int t = 0; t < 4; t++) {
      int first = t * 50;
      Thread sender =
          new Thread(
              () -> {
                for (int i = first; i < first + 50; i++) {
                  try {
                    statuses.add(
                        signed("workflow_job", queued(i, "octo/hello", "self-hosted"))
                            .statusCode());
                  } catch (Exception e) {
                    statuses.add(-1);
                  }
                }
              });
      senders.add(sender);
      sender.start();
    }
    for (Thread sender : senders) {
      sender.join();
    }
    assertEquals(200, statuses.size());
    assertTrue(statuses.stream().allMatch(status -> status == 202), statuses.toString());
    assertEquals(200, receiver.counters().accepted());
    assertEquals(200, demand.queuedFor(Set.of("self-hosted", "Linux", "X64")));
  }

  @Test
  void theSecretShowsNowhere() {
    assertFalse(receiver.toString().contains(SECRET));
    assertFalse(receiver.counters().toString().contains(SECRET));
  }
}
