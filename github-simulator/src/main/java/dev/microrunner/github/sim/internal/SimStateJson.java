package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.Fault;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The JSON shapes of the control endpoints (snake_case, as GitHub's). */
final class SimStateJson {

  private SimStateJson() {}

  static ObjectNode toJson(SimState state) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode runners = root.putArray("runners");
    for (SimState.RunnerState runner : state.runners()) {
      ObjectNode node = runners.addObject();
      node.put("id", runner.id());
      node.put("name", runner.name());
      node.put("scope", runner.scope());
      node.put("status", runner.status());
      node.put("busy", runner.busy());
      node.put("ephemeral", runner.ephemeral());
      runner.labels().forEach(node.putArray("labels")::add);
    }
    ArrayNode jobs = root.putArray("jobs");
    for (SimState.JobState job : state.jobs()) {
      ObjectNode node = jobs.addObject();
      node.put("id", job.id());
      node.put("name", job.name());
      job.labels().forEach(node.putArray("labels")::add);
      node.put("status", job.status());
      if (job.runnerId().isPresent()) {
        node.put("runner_id", job.runnerId().get());
      } else {
        node.putNull("runner_id");
      }
      putOptional(node, "runner_name", job.runnerName());
      node.put("queued_at", job.queuedAt().toString());
      putOptional(node, "started_at", job.startedAt().map(Instant::toString));
      putOptional(node, "finished_at", job.finishedAt().map(Instant::toString));
      putOptional(node, "result", job.result());
      putOptional(node, "cancel_started_at", job.cancelStartedAt().map(Instant::toString));
    }
    root.put("queued_jobs", state.queuedJobs());
    root.put("running_jobs", state.runningJobs());
    root.put("finished_jobs", state.finishedJobs());
    root.put("removed_runners", state.removedRunners());
    root.put("api_requests", state.apiRequests());
    return root;
  }

  private static void putOptional(ObjectNode node, String field, Optional<String> value) {
    if (value.isPresent()) {
      node.put(field, value.get());
    } else {
      node.putNull(field);
    }
  }

  /**
   * {@code {"name": "build", "labels": ["self-hosted"], "duration_ms": 500, "cancel_ms": 500,
   * "repository": "owner/name"}} ({@code repository} optional); else a 422.
   */
  static SimJob job(JsonNode node) throws HttpError {
    List<String> labels = new ArrayList<>();
    node.path("labels").forEach(label -> labels.add(label.asText()));
    try {
      return new SimJob(
          node.path("name").asText(""),
          labels,
          Duration.ofMillis(node.path("duration_ms").asLong(0)),
          Duration.ofMillis(node.path("cancel_ms").asLong(SimJob.DEFAULT_CANCEL_TIME.toMillis())),
          node.path("repository").isTextual()
              ? Optional.of(node.path("repository").asText())
              : Optional.empty());
    } catch (IllegalArgumentException e) {
      throw new HttpError(422, e.getMessage());
    }
  }

  /**
   * {@code {"kind": "primary_rate_limit" | "secondary_rate_limit" | "server_error" | "latency",
   * "requests": N, "status": 502, "reset_after_seconds": S, "retry_after_seconds": S, "latency_ms":
   * MS}}; else a 422.
   */
  static Fault fault(JsonNode node) throws HttpError {
    String kind = node.path("kind").asText("").toLowerCase(Locale.ROOT);
    int requests = node.path("requests").asInt(1);
    try {
      return switch (kind) {
        case "primary_rate_limit" ->
            new Fault(
                Fault.Kind.PRIMARY_RATE_LIMIT,
                requests,
                node.path("status").asInt(403),
                Duration.ofSeconds(node.path("reset_after_seconds").asLong(60)));
        case "secondary_rate_limit" ->
            new Fault(
                Fault.Kind.SECONDARY_RATE_LIMIT,
                requests,
                node.path("status").asInt(403),
                Duration.ofSeconds(node.path("retry_after_seconds").asLong(0)));
        case "server_error" -> Fault.serverError(requests, node.path("status").asInt(500));
        case "latency" -> Fault.latency(Duration.ofMillis(node.path("latency_ms").asLong(0)));
        default ->
            throw new HttpError(
                422,
                "fault kind '"
                    + kind
                    + "' is not one of primary_rate_limit, secondary_rate_limit,"
                    + " server_error, latency");
      };
    } catch (IllegalArgumentException e) {
      throw new HttpError(422, e.getMessage());
    }
  }
}
