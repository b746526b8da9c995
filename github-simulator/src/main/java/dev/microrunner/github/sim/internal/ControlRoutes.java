package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimWebhook;
import dev.microrunner.github.sim.SimWebhookDelivery;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * The control API under {@code /_sim/}, for tests and the demo: the state, the job queue and the
 * faults. It needs no authentication: the simulator listens on the loopback interface only.
 */
final class ControlRoutes {

  private final SimStore store;
  private final WebhookSender webhooks;
  private final Router<Request> routes;

  ControlRoutes(SimStore store, WebhookSender webhooks) {
    this.store = store;
    this.webhooks = webhooks;
    this.routes =
        new Router<Request>()
            .get("/_sim/state", this::state)
            .post("/_sim/webhooks", this::addWebhook)
            .post("/_sim/webhooks/drop", this::dropWebhookDeliveries)
            .get("/_sim/webhook-deliveries", this::webhookDeliveries)
            .post("/_sim/jobs", this::enqueueJobs)
            .post("/_sim/faults", this::injectFault)
            .delete("/_sim/faults", this::clearFaults);
  }

  /** The reply of a control endpoint; empty when the request is for none of them. */
  Optional<Reply> route(Request request) throws IOException, HttpError, InterruptedException {
    return routes.route(request.method(), request.path(), request);
  }

  /** {@code GET /_sim/state}: runners, jobs and counters (see {@link SimStateJson#toJson}). */
  private Reply state(Request request, Matcher path) {
    return Reply.of(200, SimStateJson.toJson(store.snapshot()));
  }

  /**
   * {@code POST /_sim/webhooks}: {@code {"url": "http://…", "secret": "…", "attempts": 1,
   * "retry_backoff_ms": 1000}} ({@code attempts} and {@code retry_backoff_ms} optional); 201 with
   * its {@code id}, 422 for a bad URL, an empty secret or fewer than 1 attempt.
   */
  private Reply addWebhook(Request request, Matcher path) throws IOException, HttpError {
    JsonNode body = request.body();
    SimWebhook webhook;
    try {
      webhook =
          new SimWebhook(
              URI.create(body.path("url").asText("")),
              body.path("secret").asText(""),
              body.path("attempts").asInt(SimWebhook.DEFAULT_ATTEMPTS),
              Duration.ofMillis(
                  body.path("retry_backoff_ms")
                      .asLong(SimWebhook.DEFAULT_RETRY_BACKOFF.toMillis())));
    } catch (IllegalArgumentException e) {
      // The message names the URL or the rule broken, never the secret.
      throw new HttpError(422, e.getMessage());
    }
    ObjectNode reply = JSON.createObjectNode();
    reply.put("id", webhooks.add(webhook));
    return Reply.of(201, reply);
  }

  /**
   * {@code POST /_sim/webhooks/drop}: {@code {"deliveries": N}}: the next N deliveries fail unsent,
   * as when the receiver cannot be reached; 204.
   */
  private Reply dropWebhookDeliveries(Request request, Matcher path) throws IOException, HttpError {
    int count = request.body().path("deliveries").asInt(-1);
    if (count < 0) {
      throw new HttpError(422, "deliveries must be a number >= 0");
    }
    webhooks.dropNext(count);
    return Reply.noContent();
  }

  /** {@code GET /_sim/webhook-deliveries}: the kept deliveries, oldest first. */
  private Reply webhookDeliveries(Request request, Matcher path) {
    ArrayNode list = JSON.createArrayNode();
    for (SimWebhookDelivery delivery : webhooks.deliveries()) {
      ObjectNode node = list.addObject();
      node.put("id", delivery.id());
      node.put("hook_id", delivery.hookId());
      node.put("event", delivery.event());
      node.put("action", delivery.action().orElse(null));
      if (delivery.jobId().isPresent()) {
        node.put("job_id", delivery.jobId().get());
      } else {
        node.putNull("job_id");
      }
      node.put("status", delivery.status().name().toLowerCase(Locale.ROOT));
      node.put("attempts", delivery.attempts());
      if (delivery.responseStatus().isPresent()) {
        node.put("response_status", delivery.responseStatus().get());
      } else {
        node.putNull("response_status");
      }
      node.put("error", delivery.error().orElse(null));
    }
    return Reply.of(200, list);
  }

  /** {@code POST /_sim/jobs}: one job or an array of them; 201 with their ids. */
  private Reply enqueueJobs(Request request, Matcher path) throws IOException, HttpError {
    JsonNode body = request.body();
    List<SimJob> jobs = new ArrayList<>();
    for (JsonNode node : body.isArray() ? body : JSON.createArrayNode().add(body)) {
      jobs.add(SimStateJson.job(node));
    }
    ObjectNode reply = JSON.createObjectNode();
    ArrayNode ids = reply.putArray("jobs");
    List<SimStore.JobRecord> queued;
    try {
      queued = store.enqueue(jobs);
    } catch (IllegalArgumentException e) {
      throw new HttpError(422, e.getMessage());
    }
    for (SimStore.JobRecord record : queued) {
      ids.addObject()
          .put("id", record.id)
          .put("name", record.job.name())
          .put("run_id", record.runId)
          .put("repository", record.repository.fullName());
    }
    return Reply.of(201, reply);
  }

  /** {@code POST /_sim/faults} (see {@link SimStateJson#fault}). */
  private Reply injectFault(Request request, Matcher path) throws IOException, HttpError {
    store.injectFault(SimStateJson.fault(request.body()));
    return Reply.noContent();
  }

  /** {@code DELETE /_sim/faults}: every pending fault and the latency. */
  private Reply clearFaults(Request request, Matcher path) {
    store.clearFaults();
    return Reply.noContent();
  }
}
