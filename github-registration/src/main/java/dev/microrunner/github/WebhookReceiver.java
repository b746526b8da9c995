package dev.microrunner.github;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives GitHub's {@code workflow_job} webhooks on {@code POST /webhook} and hands each good one
 * to a consumer. A delivery is checked in this order, each failure answered at once and counted:
 *
 * <ol>
 *   <li>path {@code /webhook} (404), method {@code POST} (405), body at most {@link
 *       Options#maxBodyBytes} by its {@code Content-Length} and as read (413);
 *   <li>{@code X-Hub-Signature-256} is the HMAC-SHA256 of the body with the secret, compared in
 *       constant time, before anything in the body is read (401);
 *   <li>{@code X-GitHub-Delivery} present (400) and not seen among the last {@link
 *       Options#rememberedDeliveries} (409: a replay);
 *   <li>{@code X-GitHub-Event}: {@code ping} is answered 204; anything but {@code workflow_job} is
 *       400 {@code unsupported event X};
 *   <li>the body is a {@code workflow_job} payload (400 otherwise); it is handed to the consumer
 *       and answered 202.
 * </ol>
 *
 * <p>GitHub does not retry a failed delivery, so a refused one is lost: the demand it carried comes
 * back through {@link DemandReconciler}. The secret and the signatures never reach a log line or an
 * answer.
 */
public final class WebhookReceiver implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(WebhookReceiver.class);

  /** The one path served. */
  public static final String PATH = "/webhook";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SIGNATURE_PREFIX = "sha256=";

  /** What is shown of an event name in an answer: GitHub's names are short and plain. */
  private static final int MAX_EVENT_NAME = 64;

  /**
   * Options of a receiver.
   *
   * @param maxBodyBytes the largest body accepted (GitHub caps payloads at 25 MB; a {@code
   *     workflow_job} is a few KiB)
   * @param rememberedDeliveries how many delivery ids are remembered to refuse replays; the oldest
   *     is forgotten first
   * @param threads threads answering deliveries
   */
  public record Options(int maxBodyBytes, int rememberedDeliveries, int threads) {
    public Options {
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be at least 1, got " + maxBodyBytes);
      }
      if (rememberedDeliveries < 1) {
        throw new IllegalArgumentException(
            "rememberedDeliveries must be at least 1, got " + rememberedDeliveries);
      }
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, got " + threads);
      }
    }

    /** 1 MiB bodies, the last 10,000 delivery ids, 4 threads. */
    public static Options defaults() {
      return new Options(1 << 20, 10_000, 4);
    }

    public Options withMaxBodyBytes(int bytes) {
      return new Options(bytes, rememberedDeliveries, threads);
    }

    public Options withRememberedDeliveries(int count) {
      return new Options(maxBodyBytes, count, threads);
    }
  }

  /**
   * What the receiver did so far, for metrics: deliveries accepted and refusals by reason.
   *
   * @param accepted {@code workflow_job} events handed to the consumer (202)
   * @param pings signed pings answered 204
   * @param notFound requests to another path (404)
   * @param methodNotAllowed other methods than POST (405)
   * @param tooLarge bodies over the limit (413)
   * @param badSignature a missing, malformed or wrong {@code X-Hub-Signature-256} (401)
   * @param missingDeliveryId signed, without {@code X-GitHub-Delivery} (400)
   * @param replayed a delivery id seen before (409)
   * @param unsupportedEvent signed events of another type than the two above (400)
   * @param malformed signed {@code workflow_job} bodies that are not its JSON (400)
   * @param consumerFailed events the consumer threw on (500)
   */
  public record Counters(
      long accepted,
      long pings,
      long notFound,
      long methodNotAllowed,
      long tooLarge,
      long badSignature,
      long missingDeliveryId,
      long replayed,
      long unsupportedEvent,
      long malformed,
      long consumerFailed) {

    /** Every refused request. */
    public long refused() {
      return notFound
          + methodNotAllowed
          + tooLarge
          + badSignature
          + missingDeliveryId
          + replayed
          + unsupportedEvent
          + malformed
          + consumerFailed;
    }
  }

  private enum Outcome {
    ACCEPTED,
    PING,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    TOO_LARGE,
    BAD_SIGNATURE,
    MISSING_DELIVERY_ID,
    REPLAYED,
    UNSUPPORTED_EVENT,
    MALFORMED,
    CONSUMER_FAILED
  }

  private final HttpServer server;
  private final ExecutorService executor;
  private final byte[] key;
  private final Consumer<WorkflowJobEvent> consumer;
  private final Options options;
  private final Map<Outcome, AtomicLong> counts = new EnumMap<>(Outcome.class);

  /** Delivery ids in the order first seen; guarded by itself. */
  private final LinkedHashSet<String> deliveries = new LinkedHashSet<>();

  private WebhookReceiver(
      InetSocketAddress address,
      Secret secret,
      Consumer<WorkflowJobEvent> consumer,
      Options options)
      throws IOException {
    this.key = secret.reveal().getBytes(StandardCharsets.UTF_8);
    this.consumer = consumer;
    this.options = options;
    for (Outcome outcome : Outcome.values()) {
      counts.put(outcome, new AtomicLong());
    }
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            options.threads(),
            task -> {
              Thread thread = new Thread(task, "webhook-receiver-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    this.server = HttpServer.create(address, 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /**
   * Listens on {@code address} (port 0: a free one) and hands every good {@code workflow_job} event
   * to {@code consumer}, on the receiver's threads: a consumer that blocks holds GitHub's delivery,
   * which GitHub gives up after 10 seconds.
   *
   * @param secret the webhook's secret, as set in GitHub (e.g. {@link Secret#fromFile})
   */
  public static WebhookReceiver start(
      InetSocketAddress address,
      Secret secret,
      Consumer<WorkflowJobEvent> consumer,
      Options options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(consumer, "consumer");
    Objects.requireNonNull(options, "options");
    return new WebhookReceiver(address, secret, consumer, options);
  }

  /** Where it listens, with the port it got. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  public Counters counters() {
    return new Counters(
        count(Outcome.ACCEPTED),
        count(Outcome.PING),
        count(Outcome.NOT_FOUND),
        count(Outcome.METHOD_NOT_ALLOWED),
        count(Outcome.TOO_LARGE),
        count(Outcome.BAD_SIGNATURE),
        count(Outcome.MISSING_DELIVERY_ID),
        count(Outcome.REPLAYED),
        count(Outcome.UNSUPPORTED_EVENT),
        count(Outcome.MALFORMED),
        count(Outcome.CONSUMER_FAILED));
  }

  private long count(Outcome outcome) {
    return counts.get(outcome).get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "WebhookReceiver[" + address() + PATH + "]";
  }

  /** A refusal: the status and a short text that says why, never anything secret. */
  private record Answer(Outcome outcome, int status, String text) {}

  private void handle(HttpExchange exchange) throws IOException {
    Answer answer;
    try (exchange) {
      try {
        answer = answer(exchange);
      } catch (IOException e) {
        // The client went away or sent a broken body: nothing to answer.
        LOG.debug("webhook request from {} failed: {}", exchange.getRemoteAddress(), e.toString());
        return;
      }
      counts.get(answer.outcome()).incrementAndGet();
      if (answer.status() >= 400 && answer.outcome() != Outcome.CONSUMER_FAILED) {
        LOG.debug(
            "webhook request from {} refused: {} {}",
            exchange.getRemoteAddress(),
            answer.status(),
            answer.text());
      }
      if (answer.outcome() == Outcome.METHOD_NOT_ALLOWED) {
        exchange.getResponseHeaders().set("Allow", "POST");
      }
      if (answer.text().isEmpty()) {
        exchange.sendResponseHeaders(answer.status(), -1);
      } else {
        byte[] body = (answer.text() + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(answer.status(), body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  private Answer answer(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestURI().getPath().equals(PATH)) {
      return new Answer(Outcome.NOT_FOUND, 404, "not found");
    }
    if (!exchange.getRequestMethod().equals("POST")) {
      return new Answer(Outcome.METHOD_NOT_ALLOWED, 405, "only POST");
    }
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null && declaredTooLarge(length)) {
      return tooLarge();
    }
    Optional<byte[]> read = readBounded(exchange.getRequestBody());
    if (read.isEmpty()) {
      return tooLarge();
    }
    byte[] body = read.get();
    if (!signedWithOurSecret(exchange.getRequestHeaders().getFirst("X-Hub-Signature-256"), body)) {
      return new Answer(Outcome.BAD_SIGNATURE, 401, "bad signature");
    }
    String delivery = exchange.getRequestHeaders().getFirst("X-GitHub-Delivery");
    if (delivery == null || delivery.isBlank()) {
      return new Answer(Outcome.MISSING_DELIVERY_ID, 400, "missing X-GitHub-Delivery");
    }
    if (!remember(delivery)) {
      return new Answer(Outcome.REPLAYED, 409, "delivery already received");
    }
    Answer answer = deliver(exchange.getRequestHeaders().getFirst("X-GitHub-Event"), body);
    if (answer.status() >= 400) {
      // A delivery that was not taken may come again (redelivered by hand) and then be taken.
      forget(delivery);
    }
    return answer;
  }

  private Answer deliver(String event, byte[] body) {
    if ("ping".equals(event)) {
      return new Answer(Outcome.PING, 204, "");
    }
    if (!"workflow_job".equals(event)) {
      return new Answer(Outcome.UNSUPPORTED_EVENT, 400, "unsupported event " + printable(event));
    }
    WorkflowJobEvent parsed;
    try {
      parsed = parse(body);
    } catch (IllegalArgumentException | IOException e) {
      return new Answer(Outcome.MALFORMED, 400, "malformed workflow_job payload");
    }
    try {
      consumer.accept(parsed);
    } catch (RuntimeException e) {
      LOG.warn(
          "webhook consumer failed on workflow_job {} of job {}",
          parsed.action(),
          parsed.jobId(),
          e);
      return new Answer(Outcome.CONSUMER_FAILED, 500, "not handled");
    }
    return new Answer(Outcome.ACCEPTED, 202, "");
  }

  private Answer tooLarge() {
    return new Answer(
        Outcome.TOO_LARGE, 413, "body larger than " + options.maxBodyBytes() + " bytes");
  }

  private boolean declaredTooLarge(String length) {
    try {
      return Long.parseLong(length.trim()) > options.maxBodyBytes();
    } catch (NumberFormatException e) {
      // The HTTP server refuses a malformed Content-Length before this runs; be safe anyway.
      return true;
    }
  }

  /** The body, or empty when it is longer than the limit (whatever Content-Length said). */
  private Optional<byte[]> readBounded(InputStream in) throws IOException {
    int limit = options.maxBodyBytes();
    ByteArrayOutputStream body = new ByteArrayOutputStream(Math.min(limit, 16_384));
    byte[] buffer = new byte[8192];
    int total = 0;
    int n;
    while ((n = in.read(buffer, 0, Math.min(buffer.length, limit + 1 - total))) > 0) {
      total += n;
      if (total > limit) {
        return Optional.empty();
      }
      body.write(buffer, 0, n);
    }
    return Optional.of(body.toByteArray());
  }

  /** Whether {@code header} is {@code sha256=} and the body's HMAC in hex; constant-time. */
  private boolean signedWithOurSecret(String header, byte[] body) {
    if (header == null || !header.startsWith(SIGNATURE_PREFIX)) {
      return false;
    }
    byte[] presented;
    try {
      presented = HexFormat.of().parseHex(header.substring(SIGNATURE_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(hmacSha256(key, body), presented);
  }

  /** The HMAC-SHA256 of {@code body} with {@code key}, as GitHub signs deliveries. */
  static byte[] hmacSha256(byte[] key, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("every JDK has HmacSHA256", e);
    }
  }

  /** Records {@code delivery}; false when it is among the remembered ones already. */
  private boolean remember(String delivery) {
    synchronized (deliveries) {
      if (!deliveries.add(delivery)) {
        return false;
      }
      if (deliveries.size() > options.rememberedDeliveries()) {
        Iterator<String> oldest = deliveries.iterator();
        oldest.next();
        oldest.remove();
      }
      return true;
    }
  }

  private void forget(String delivery) {
    synchronized (deliveries) {
      deliveries.remove(delivery);
    }
  }

  /** An event name as it may appear in an answer: short, printable ASCII. */
  private static String printable(String event) {
    if (event == null) {
      return "(none)";
    }
    StringBuilder shown = new StringBuilder();
    for (int i = 0; i < event.length(); i++) {
      char c = event.charAt(i);
      if (shown.length() == MAX_EVENT_NAME) {
        shown.append('…');
        break;
      }
      shown.append(c >= 0x21 && c < 0x7f ? c : '?');
    }
    return shown.toString();
  }

  /** The fields of a {@code workflow_job} payload; IllegalArgumentException when one is wrong. */
  static WorkflowJobEvent parse(byte[] body) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON", e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    JsonNode job = root.path("workflow_job");
    List<String> labels = new ArrayList<>();
    JsonNode labelNodes = job.path("labels");
    if (!labelNodes.isArray()) {
      throw new IllegalArgumentException("workflow_job.labels is not an array");
    }
    for (JsonNode label : labelNodes) {
      // GitHub's completed-event schema allows null among the labels; they name nothing.
      if (!label.isNull()) {
        labels.add(text(label, "workflow_job.labels[]"));
      }
    }
    JsonNode organization = root.path("organization");
    return new WorkflowJobEvent(
        text(root.path("action"), "action"),
        number(job.path("id"), "workflow_job.id"),
        number(job.path("run_id"), "workflow_job.run_id"),
        text(root.path("repository").path("full_name"), "repository.full_name"),
        organization.isObject()
            ? Optional.of(text(organization.path("login"), "organization.login"))
            : Optional.empty(),
        labels,
        job.path("runner_id").isIntegralNumber()
            ? Optional.of(job.path("runner_id").asLong())
            : Optional.empty(),
        job.path("runner_name").isTextual()
            ? Optional.of(job.path("runner_name").asText())
            : Optional.empty());
  }

  private static String text(JsonNode node, String field) {
    if (!node.isTextual()) {
      throw new IllegalArgumentException(field + " is not a string");
    }
    return node.asText();
  }

  private static long number(JsonNode node, String field) {
    if (!node.canConvertToLong() || !node.isIntegralNumber()) {
      throw new IllegalArgumentException(field + " is not an integer");
    }
    return node.asLong();
  }
}
