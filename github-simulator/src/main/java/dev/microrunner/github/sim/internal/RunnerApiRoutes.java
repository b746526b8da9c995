package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimulatedRunner;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * The simulated actions/runner's side of the simulator, under {@code /_sim/runner/}: what {@link
 * SimulatedRunner} calls where the real runner calls GitHub's private runner services. {@code
 * config.sh} authenticates with a registration or remove token ({@code RemoteAuth}), the listener
 * with the credential it got when it was registered ({@code Bearer}).
 *
 * <p>It answers every request under {@code /_sim/} that is not a control endpoint: apart from
 * {@code register} and {@code unregister}, the listener's credential is checked before the path.
 */
final class RunnerApiRoutes {

  private static final Duration MAX_LONG_POLL = Duration.ofSeconds(30);

  /** A listener's request, and the runner its credential belongs to. */
  private record Call(Request request, SimStore.RunnerRecord runner) {}

  private final SimStore store;
  private final RestApiState rest;
  private final Router<Request> configRoutes;
  private final Router<Call> listenerRoutes;

  RunnerApiRoutes(SimStore store, RestApiState rest) {
    this.store = store;
    this.rest = rest;
    this.configRoutes =
        new Router<Request>()
            .post("/_sim/runner/register", this::register)
            .post("/_sim/runner/unregister", this::unregister);
    this.listenerRoutes =
        new Router<Call>()
            .post("/_sim/runner/jobs/(\\d+)/complete", this::completeJob)
            .post("/_sim/runner/jobs/(\\d+)/cancelling", this::cancelling)
            .post("/_sim/runner/connect", this::connect)
            .post("/_sim/runner/disconnect", this::disconnect)
            .get("/_sim/runner/jobs", this::takeJob);
  }

  Reply handle(Request request) throws IOException, HttpError, InterruptedException {
    Optional<Reply> config = configRoutes.route(request.method(), request.path(), request);
    if (config.isPresent()) {
      return config.get();
    }
    Call call = new Call(request, runnerFromCredential(request));
    return listenerRoutes.route(request.method(), request.path(), call).orElseGet(Reply::notFound);
  }

  /** The runner of the bearer credential: 401 without one, 404 when it was removed. */
  private SimStore.RunnerRecord runnerFromCredential(Request request) throws HttpError {
    Optional<String> credential = request.bearer();
    if (credential.isEmpty()) {
      throw new HttpError(401, "Bad credentials");
    }
    return store
        .runnerByCredential(credential.get())
        .orElseThrow(() -> new HttpError(404, "runner was removed"));
  }

  // ---- config.sh ------------------------------------------------------------------------------

  /**
   * {@code POST /_sim/runner/register}, {@code config.sh}: registers a runner with a registration
   * token, as GitHub's runner API; 201 with the runner and its credential.
   */
  private Reply register(Request request, Matcher path) throws IOException, HttpError {
    String token = request.remoteAuth();
    JsonNode body = request.body();
    String scope = scopeOfRunnerUrl(body.path("url").asText(""));
    String name = body.path("name").asText("");
    if (name.isBlank()) {
      throw new HttpError(422, "runner name is missing");
    }
    synchronized (store) {
      store.expireTokens();
      if (!store.validToken(store.registrationTokens, token, scope)) {
        throw new HttpError(
            401, "Bad credentials: registration token unknown, expired or for another scope");
      }
      String groupName = body.path("runner_group").asText("Default");
      SimStore.Group group =
          store.groups.stream()
              .filter(candidate -> candidate.name().equalsIgnoreCase(groupName))
              .findFirst()
              .orElseThrow(
                  () ->
                      new HttpError(
                          404,
                          "Could not find any self-hosted runner group named \""
                              + groupName
                              + "\"."));
      Optional<SimStore.RunnerRecord> existing = store.runnerNamed(scope, name);
      if (existing.isPresent()) {
        if (!body.path("replace").asBoolean(false)) {
          return Reply.error(409, "A runner exists with the same name " + name + ".");
        }
        store.removeRunner(existing.get().id);
      }
      List<String> labels = new ArrayList<>();
      if (!body.path("no_default_labels").asBoolean(false)) {
        labels.addAll(List.of("self-hosted", "Linux", "X64"));
      }
      body.path("labels").forEach(label -> labels.add(label.asText()));
      SimStore.RunnerRecord runner =
          store.addRunner(scope, name, labels, body.path("ephemeral").asBoolean(false), group.id());
      ObjectNode reply = RestApiRoutes.runnerJson(runner);
      reply.put("credential", runner.credential);
      return Reply.of(201, reply);
    }
  }

  /** {@code POST /_sim/runner/unregister}, {@code config.sh remove}: with a remove token. */
  private Reply unregister(Request request, Matcher path) throws IOException, HttpError {
    String token = request.remoteAuth();
    JsonNode body = request.body();
    String scope = scopeOfRunnerUrl(body.path("url").asText(""));
    long id = body.path("id").asLong(0);
    synchronized (store) {
      store.expireTokens();
      if (!store.validToken(store.removeTokens, token, scope)) {
        throw new HttpError(
            401, "Bad credentials: remove token unknown, expired or for another scope");
      }
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.notFound();
      }
      if (runner.jobId != null) {
        throw new HttpError(
            422, "Bad request - Runner \"" + runner.name + "\" is still running a job\"");
      }
      store.removeRunner(id);
      return Reply.noContent();
    }
  }

  /** {@code http://127.0.0.1:P/o/r} -> {@code /repos/o/r}, {@code /o} -> {@code /orgs/o}, ... */
  private static String scopeOfRunnerUrl(String url) throws HttpError {
    String path;
    try {
      path = URI.create(url).getPath();
    } catch (IllegalArgumentException e) {
      throw new HttpError(422, "invalid runner URL '" + url + "'");
    }
    String[] parts = path == null ? new String[0] : path.replaceAll("^/+|/+$", "").split("/");
    if (parts.length == 2 && parts[0].equals("enterprises")) {
      return "/enterprises/" + parts[1];
    }
    if (parts.length == 2 && !parts[0].isEmpty()) {
      return "/repos/" + parts[0] + "/" + parts[1];
    }
    if (parts.length == 1 && !parts[0].isEmpty()) {
      return "/orgs/" + parts[0];
    }
    throw new HttpError(
        422, "runner URL '" + url + "' names no repository, organization or enterprise");
  }

  // ---- The listener ---------------------------------------------------------------------------

  /**
   * {@code POST /_sim/runner/connect} with {@code {"version": "2.336.0", "disable_update": false}}:
   * opens the runner's listener session, which marks it online; 200 with the runner, 409 when a
   * session is open already, 403 when GitHub no longer accepts the version.
   */
  private Reply connect(Call call, Matcher path) throws IOException, HttpError {
    JsonNode body = call.request().body();
    String version = body.path("version").asText("");
    try {
      if (!rest.acceptsRunner(version, store.now())) {
        return Reply.error(
            403, "Runner version v" + version + " is deprecated and cannot receive messages.");
      }
    } catch (IllegalArgumentException e) {
      throw new HttpError(400, e.getMessage());
    }
    if (!store.connect(call.runner().id, version, body.path("disable_update").asBoolean(false))) {
      // GitHub allows one listener session per runner: a JIT config started twice fails.
      return Reply.error(409, "A session for this runner already exists.");
    }
    return Reply.of(200, RestApiRoutes.runnerJson(call.runner()));
  }

  /** {@code POST /_sim/runner/disconnect}: offline; a job it runs is left as it is. */
  private Reply disconnect(Call call, Matcher path) {
    store.disconnect(call.runner().id);
    return Reply.noContent();
  }

  /**
   * {@code GET /_sim/runner/jobs?wait_ms=N}: a long poll (at most 30 s) for a job the runner can
   * take; 200 with the job, 204 when none came, 404 when the runner was removed meanwhile.
   */
  private Reply takeJob(Call call, Matcher path) throws HttpError, InterruptedException {
    Duration wait = Duration.ofMillis(call.request().intParam("wait_ms", 0));
    if (wait.compareTo(MAX_LONG_POLL) > 0) {
      wait = MAX_LONG_POLL;
    }
    SimStore.RunnerRecord runner = call.runner();
    Optional<String> update = rest.updateFor(runner.version);
    if (store.offerUpdate(runner.id, update)) {
      ObjectNode reply = JSON.createObjectNode();
      reply.put("type", "update");
      reply.put("version", update.get());
      return Reply.of(200, reply);
    }
    Optional<SimStore.JobRecord> job = store.takeJob(runner.id, wait);
    if (job.isEmpty()) {
      synchronized (store) {
        if (!store.runners.containsKey(runner.id)) {
          return Reply.error(404, "runner was removed");
        }
      }
      return Reply.noContent();
    }
    ObjectNode reply = JSON.createObjectNode();
    reply.put("type", "job");
    reply.put("id", job.get().id);
    reply.put("name", job.get().job.name());
    reply.put("duration_ms", job.get().job.duration().toMillis());
    reply.put("cancel_ms", job.get().job.cancelTime().toMillis());
    job.get().job.labels().forEach(reply.putArray("labels")::add);
    return Reply.of(200, reply);
  }

  /** {@code POST /_sim/runner/jobs/{id}/cancelling}: the runner began to cancel it; 204. */
  private Reply cancelling(Call call, Matcher path) {
    if (!store.cancelling(call.runner().id, Long.parseLong(path.group(1)))) {
      return Reply.notFound();
    }
    return Reply.noContent();
  }

  /** {@code POST /_sim/runner/jobs/{id}/complete}: {@code {"result": "Succeeded"}}; 204. */
  private Reply completeJob(Call call, Matcher path) throws IOException, HttpError {
    String result = call.request().body().path("result").asText("Succeeded");
    if (!store.completeJob(call.runner().id, Long.parseLong(path.group(1)), result)) {
      return Reply.notFound();
    }
    return Reply.noContent();
  }
}
