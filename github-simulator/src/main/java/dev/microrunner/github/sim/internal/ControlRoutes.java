package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimJob;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * The control API under {@code /_sim/}, for tests and the demo: the state, the job queue and the
 * faults. It needs no authentication: the simulator listens on the loopback interface only.
 */
final class ControlRoutes {

  private final SimStore store;
  private final Router<Request> routes;

  ControlRoutes(SimStore store) {
    this.store = store;
    this.routes =
        new Router<Request>()
            .get("/_sim/state", this::state)
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
