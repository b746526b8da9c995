package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimWebhook;
import dev.microrunner.github.sim.SimWebhookDelivery;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the simulator's webhooks as GitHub does: a {@code workflow_job} event for every job that is
 * queued, taken by a runner and completed, and a {@code ping} when a webhook is added; JSON bodies
 * signed with the webhook's secret, GitHub's delivery headers. Deliveries are asynchronous, in
 * order per webhook and job (the next waits for the one before, its retries included), and each
 * ends recorded as delivered or failed. The last {@value #KEPT_DELIVERIES} deliveries are kept.
 */
public final class WebhookSender implements SimStore.JobListener, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GitHubSimulator.class);

  /** GitHub's delivery agent; the part after the slash is a short commit hash. */
  static final String USER_AGENT = "GitHub-Hookshot/5f1e2d3";

  /** GitHub gives a receiver 10 seconds to answer (github.com). */
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  static final int KEPT_DELIVERIES = 1000;

  private static final String ZEN = "Keep it logically awesome.";

  private record Hook(long id, SimWebhook config) {}

  /** A delivery's mutable state; guarded by the sender. */
  private static final class Delivery {
    final String id = UUID.randomUUID().toString();
    final Hook hook;
    final String event;
    final Optional<String> action;
    final Optional<Long> jobId;
    final byte[] body;
    final long targetId;
    SimWebhookDelivery.Status status = SimWebhookDelivery.Status.PENDING;
    int attempts;
    Optional<Integer> responseStatus = Optional.empty();
    Optional<String> error = Optional.empty();

    Delivery(
        Hook hook,
        String event,
        Optional<String> action,
        Optional<Long> jobId,
        byte[] body,
        long targetId) {
      this.hook = hook;
      this.event = event;
      this.action = action;
      this.jobId = jobId;
      this.body = body;
      this.targetId = targetId;
    }

    SimWebhookDelivery snapshot() {
      return new SimWebhookDelivery(
          id, hook.id(), event, action, jobId, status, attempts, responseStatus, error);
    }
  }

  private final URI apiUrl;
  private final SimStore store;
  private final RestApiState rest;
  private final Clock clock;
  private final List<Hook> hooks = new CopyOnWriteArrayList<>();
  private final AtomicLong nextHookId = new AtomicLong(400_000_001L);
  private final ExecutorService executor;
  private final HttpClient client;
  private final Deque<Delivery> deliveries = new ArrayDeque<>();

  /** The last delivery of each webhook and job (or ping), which the next one waits for. */
  private final Map<String, CompletableFuture<Void>> tails = new HashMap<>();

  /** Deliveries still to fail without being sent, as if the receiver were unreachable. */
  private int deliveriesToDrop;

  public WebhookSender(URI apiUrl, SimStore store, RestApiState rest, Clock clock) {
    this.apiUrl = apiUrl;
    this.store = store;
    this.rest = rest;
    this.clock = clock;
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            4,
            task -> {
              Thread thread = new Thread(task, "github-sim-hook-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    // The client keeps its own executor: the deliveries block this one's threads in send().
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** Adds a webhook and pings it, as GitHub does when one is created; returns its id. */
  public long add(SimWebhook config) {
    Hook hook = new Hook(nextHookId.getAndIncrement(), config);
    hooks.add(hook);
    ObjectNode payload = JSON.createObjectNode();
    payload.put("zen", ZEN);
    payload.put("hook_id", hook.id());
    ObjectNode description = payload.putObject("hook");
    description.put("type", "Repository");
    description.put("id", hook.id());
    description.put("name", "web");
    description.put("active", true);
    description.putArray("events").add("workflow_job");
    description
        .putObject("config")
        .put("content_type", "json")
        .put("insecure_ssl", "0")
        .put("url", config.url().toString());
    String created = WorkflowJson.timestamp(clock.instant());
    description.put("updated_at", created);
    description.put("created_at", created);
    String hookApi = apiUrl + "/repos/sim/hooks/" + hook.id();
    description.put("url", hookApi);
    description.put("test_url", hookApi + "/test");
    description.put("ping_url", hookApi + "/pings");
    description.put("deliveries_url", hookApi + "/deliveries");
    payload.set("sender", WorkflowJson.sender(apiUrl));
    submit(hook, "ping", Optional.empty(), Optional.empty(), payload, 0);
    return hook.id();
  }

  /**
   * Makes the next {@code count} deliveries fail without being sent, each try, as when the receiver
   * is unreachable: what a reconciler must make up for.
   */
  public synchronized void dropNext(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("deliveries to drop must be >= 0, got " + count);
    }
    deliveriesToDrop = count;
  }

  /** Every kept delivery, oldest first. */
  public synchronized List<SimWebhookDelivery> deliveries() {
    List<SimWebhookDelivery> list = new ArrayList<>();
    deliveries.forEach(delivery -> list.add(delivery.snapshot()));
    return list;
  }

  @Override
  public void jobChanged(SimStore.JobRecord job, String action) {
    if (hooks.isEmpty()) {
      return;
    }
    String group =
        job.runnerGroupId == null ? null : store.groupName(job.runnerGroupId).orElse(null);
    ObjectNode payload = JSON.createObjectNode();
    payload.put("action", action);
    payload.set("workflow_job", WorkflowJson.job(job, apiUrl, group));
    boolean ownedByOrganization = rest.exists("/orgs/" + job.repository.owner());
    payload.set("repository", WorkflowJson.repository(job.repository, apiUrl, ownedByOrganization));
    if (ownedByOrganization) {
      payload.set("organization", WorkflowJson.organization(job.repository.owner(), apiUrl));
    }
    payload.set("sender", WorkflowJson.sender(apiUrl));
    for (Hook hook : hooks) {
      submit(
          hook,
          "workflow_job",
          Optional.of(action),
          Optional.of(job.id),
          payload,
          job.repository.id());
    }
  }

  private void submit(
      Hook hook,
      String event,
      Optional<String> action,
      Optional<Long> jobId,
      ObjectNode payload,
      long targetId) {
    byte[] body;
    try {
      body = JSON.writeValueAsBytes(payload);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a webhook payload is always JSON", e);
    }
    Delivery delivery = new Delivery(hook, event, action, jobId, body, targetId);
    String key = hook.id() + "/" + jobId.map(String::valueOf).orElse("ping");
    synchronized (this) {
      deliveries.addLast(delivery);
      while (deliveries.size() > KEPT_DELIVERIES) {
        deliveries.removeFirst();
      }
      // Finished chains go: what stays is one future per webhook and job still being delivered.
      tails.values().removeIf(CompletableFuture::isDone);
      CompletableFuture<Void> previous =
          tails.getOrDefault(key, CompletableFuture.completedFuture(null));
      tails.put(
          key,
          previous
              .exceptionally(failure -> null)
              .thenComposeAsync(done -> attempt(delivery), executor));
    }
  }

  /** One try; then, unless it was the last or it succeeded, the next after a wait. */
  private CompletableFuture<Void> attempt(Delivery delivery) {
    Optional<Integer> status = Optional.empty();
    Optional<String> error = Optional.empty();
    if (takeDrop()) {
      error = Optional.of("dropped by the simulator");
    } else {
      try {
        HttpResponse<Void> response =
            client.send(request(delivery), HttpResponse.BodyHandlers.discarding());
        status = Optional.of(response.statusCode());
      } catch (IOException e) {
        error = Optional.of(e.getClass().getSimpleName() + describe(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        error = Optional.of("simulator closed");
      }
    }
    boolean delivered = status.isPresent() && status.get() / 100 == 2;
    int attempts;
    synchronized (this) {
      attempts = ++delivery.attempts;
      delivery.responseStatus = status.isPresent() ? status : delivery.responseStatus;
      delivery.error = error;
      if (delivered) {
        delivery.status = SimWebhookDelivery.Status.DELIVERED;
      } else if (attempts >= delivery.hook.config().attempts() || executor.isShutdown()) {
        delivery.status = SimWebhookDelivery.Status.FAILED;
      }
    }
    SimWebhook config = delivery.hook.config();
    if (delivered || attempts >= config.attempts() || executor.isShutdown()) {
      if (!delivered) {
        LOG.warn(
            "webhook delivery {} ({} {}) to {} failed after {} tries: {}",
            delivery.id,
            delivery.event,
            delivery.action.orElse(""),
            config.shownUrl(),
            attempts,
            status.map(code -> "HTTP " + code).orElse(error.orElse("no answer")));
      }
      return CompletableFuture.completedFuture(null);
    }
    long wait = config.retryBackoff().toMillis() << Math.min(attempts - 1, 16);
    return CompletableFuture.supplyAsync(
            () -> delivery,
            CompletableFuture.delayedExecutor(wait, TimeUnit.MILLISECONDS, executor))
        .thenCompose(this::attempt);
  }

  private synchronized boolean takeDrop() {
    if (deliveriesToDrop == 0) {
      return false;
    }
    deliveriesToDrop--;
    return true;
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? "" : ": " + e.getMessage();
  }

  private HttpRequest request(Delivery delivery) {
    SimWebhook config = delivery.hook.config();
    return HttpRequest.newBuilder(config.url())
        .timeout(TIMEOUT)
        .header("Content-Type", "application/json")
        .header("User-Agent", USER_AGENT)
        .header("X-GitHub-Event", delivery.event)
        .header("X-GitHub-Delivery", delivery.id)
        .header("X-GitHub-Hook-ID", String.valueOf(delivery.hook.id()))
        .header("X-GitHub-Hook-Installation-Target-Type", "repository")
        .header("X-GitHub-Hook-Installation-Target-ID", String.valueOf(delivery.targetId))
        .header("X-Hub-Signature", "sha1=" + hmac("HmacSHA1", config.secret(), delivery.body))
        .header(
            "X-Hub-Signature-256", "sha256=" + hmac("HmacSHA256", config.secret(), delivery.body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(delivery.body))
        .build();
  }

  /** The hex HMAC of {@code body} with {@code secret}, as GitHub signs deliveries. */
  static String hmac(String algorithm, String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance(algorithm);
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), algorithm));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("every JDK has " + algorithm, e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
