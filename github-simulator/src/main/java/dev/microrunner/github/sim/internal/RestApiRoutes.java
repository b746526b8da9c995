package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimRunnerRelease;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GitHub's REST API for self-hosted runners, the part microrunner uses, and the GitHub App
 * endpoints that lead to an installation token: same paths, status codes and JSON as GitHub. A
 * request is authenticated before it is routed, as on GitHub: an App's JWT for the App endpoints, a
 * token for every other path under a repository, organization or enterprise. A repository,
 * organization or enterprise that was not declared ({@link RestApiState}) is a 404.
 */
final class RestApiRoutes {

  /** A repository, organization or enterprise: {@code /repos/o/r}, {@code /orgs/o}, ... */
  private static final String SCOPE = "/(repos/[^/]+/[^/]+|orgs/[^/]+|enterprises/[^/]+)";

  private static final Pattern SCOPED = Pattern.compile(SCOPE + "/.*");
  private static final Pattern ACCESS_TOKENS =
      Pattern.compile("/app/installations/(\\d+)/access_tokens");
  private static final Pattern INSTALLATION = Pattern.compile(SCOPE + "/installation");
  private static final String RUNNER = SCOPE + "/actions/runners/(\\d+)";

  /** A repository: the workflow run endpoints exist for repositories only. */
  private static final String REPOSITORY = "/(repos/[^/]+/[^/]+)";

  /** actions/runner's releases: public, the one path under a repository served without a token. */
  private static final String RUNNER_RELEASES = "/repos/actions/runner/releases";

  private static final String DOWNLOAD_TOKEN_ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  /** The platforms actions/runner is released for: {os, architecture}. */
  private static final List<List<String>> RUNNER_PLATFORMS =
      List.of(
          List.of("osx", "x64"),
          List.of("osx", "arm64"),
          List.of("linux", "x64"),
          List.of("linux", "arm"),
          List.of("linux", "arm64"),
          List.of("win", "x64"),
          List.of("win", "arm64"));

  private final SimStore store;
  private final RestApiState rest;
  private final URI apiUrl;
  private final Router<Request> runnerRoutes;

  RestApiRoutes(SimStore store, RestApiState rest, URI apiUrl) {
    this.store = store;
    this.rest = rest;
    this.apiUrl = apiUrl;
    this.runnerRoutes =
        new Router<Request>()
            .post(SCOPE + "/actions/runners/registration-token", this::createRegistrationToken)
            .post(SCOPE + "/actions/runners/remove-token", this::createRemoveToken)
            .post(SCOPE + "/actions/runners/generate-jitconfig", this::generateJitConfig)
            .get(SCOPE + "/actions/runners/downloads", this::listRunnerDownloads)
            .get(SCOPE + "/actions/runners", this::listRunners)
            .get(SCOPE + "/actions/runner-groups", this::listRunnerGroups)
            .get(SCOPE + "/actions/runner-groups/(\\d+)/runners", this::listRunnersInGroup)
            .get(REPOSITORY + "/actions/runs", this::listWorkflowRuns)
            .get(REPOSITORY + "/actions/runs/(\\d+)/jobs", this::listWorkflowRunJobs)
            .get(RUNNER, this::getRunner)
            .delete(RUNNER, this::deleteRunner)
            .anyMethod(RUNNER, this::otherMethodOnRunner);
  }

  /**
   * Who sent the request: on the App endpoints the App whose JWT verifies, elsewhere the token the
   * simulator accepts; without credentials, or with ones that do not verify, the client's address.
   */
  Caller caller(Request request) {
    store.expireTokens();
    String address = request.clientAddress();
    Optional<String> bearer = request.bearer();
    if (bearer.isEmpty()) {
      return Caller.anonymous(address);
    }
    String path = request.path();
    if (ACCESS_TOKENS.matcher(path).matches() || INSTALLATION.matcher(path).matches()) {
      Optional<SimStore.App> app;
      synchronized (store) {
        app = SimJwt.verify(bearer.get(), store.apps, store.now());
      }
      return app.map(Caller::app).orElseGet(() -> Caller.badCredentials(address));
    }
    return store.authenticates(bearer.get())
        ? Caller.token(bearer.get())
        : Caller.badCredentials(address);
  }

  /** The answer to {@code request} from {@code caller} (see {@link #caller}). */
  Reply handle(Request request, Caller caller) throws IOException, HttpError, InterruptedException {
    String path = request.path();
    Matcher accessTokens = ACCESS_TOKENS.matcher(path);
    if (accessTokens.matches()) {
      // The JWT comes first: a bad one is a 401 whatever the method.
      SimStore.App app = appOf(caller);
      return request.method().equals("POST")
          ? createInstallationToken(app, accessTokens)
          : Reply.notFound();
    }
    Matcher installation = INSTALLATION.matcher(path);
    if (installation.matches()) {
      SimStore.App app = appOf(caller);
      return request.method().equals("GET") && rest.exists(scope(installation))
          ? getInstallation(app, scope(installation))
          : Reply.notFound();
    }
    if (path.equals(RUNNER_RELEASES) && request.method().equals("GET")) {
      // Public, but credentials that are presented must verify.
      if (caller.kind() == Caller.Kind.BAD_CREDENTIALS) {
        return Reply.error(401, "Bad credentials");
      }
      return listRunnerReleases(request);
    }
    Matcher scoped = SCOPED.matcher(path);
    if (!scoped.matches()) {
      return Reply.notFound();
    }
    if (caller.kind() != Caller.Kind.TOKEN) {
      return Reply.error(401, "Bad credentials");
    }
    // Credentials first, then the scope: a bad token learns nothing about what exists.
    if (!rest.exists(scope(scoped))) {
      return Reply.notFound();
    }
    return runnerRoutes.route(request.method(), path, request).orElseGet(Reply::notFound);
  }

  /** {@code /repos/o/r}, {@code /orgs/o} or {@code /enterprises/e}: the path's first group. */
  private static String scope(Matcher path) {
    return "/" + path.group(1);
  }

  private static long runnerId(Matcher path) {
    return Long.parseLong(path.group(2));
  }

  private static String timestamp(Instant instant) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
  }

  // ---- GitHub Apps ----------------------------------------------------------------------------

  /** The App whose JWT the caller presented; 401 when none verified. */
  private static SimStore.App appOf(Caller caller) throws HttpError {
    return caller
        .app()
        .orElseThrow(() -> new HttpError(401, "A JSON web token could not be decoded"));
  }

  /** {@code POST /app/installations/{installation_id}/access_tokens}. */
  private Reply createInstallationToken(SimStore.App app, Matcher path) {
    if (app.installationId() != Long.parseLong(path.group(1))) {
      return Reply.notFound();
    }
    Instant expiresAt = store.now().plus(store.tokenLifetime);
    ObjectNode reply = JSON.createObjectNode();
    reply.put("token", store.issueInstallationToken());
    reply.put("expires_at", timestamp(expiresAt));
    reply
        .putObject("permissions")
        .put("administration", "write")
        .put("organization_self_hosted_runners", "write");
    reply.put("repository_selection", "all");
    return Reply.of(201, reply);
  }

  /** {@code GET /repos/{owner}/{repo}/installation} and {@code GET /orgs/{org}/installation}. */
  private Reply getInstallation(SimStore.App app, String scope) {
    if (scope.startsWith("/enterprises/")) {
      return Reply.notFound();
    }
    ObjectNode reply = JSON.createObjectNode();
    reply.put("id", app.installationId());
    reply.put("app_id", app.appId());
    String login = scope.split("/", -1)[2];
    reply.putObject("account").put("login", login);
    reply.put("target_type", scope.startsWith("/orgs/") ? "Organization" : "User");
    return Reply.of(200, reply);
  }

  // ---- Self-hosted runners ----------------------------------------------------------------------

  /**
   * {@code GET .../actions/runners/downloads}: the runner application of the offered release
   * ({@link RestApiState#offeredRunnerRelease}) for every platform, with the fields of GitHub's
   * {@code runner-application} schema. The files are not served: {@code download_url} is where
   * GitHub has actions/runner's release files, and {@code sha256_checksum} a stand-in (the SHA-256
   * of the file name), not the real file's.
   */
  private Reply listRunnerDownloads(Request request, Matcher path) {
    ArrayNode downloads = JSON.createArrayNode();
    Optional<SimRunnerRelease> offered = rest.offeredRunnerRelease();
    if (offered.isEmpty()) {
      return Reply.of(200, downloads);
    }
    String version = offered.get().version();
    // Short-lived, as GitHub's: a new one with every answer.
    String downloadToken = SimStore.random(DOWNLOAD_TOKEN_ALPHABET, 40);
    for (List<String> platform : RUNNER_PLATFORMS) {
      String os = platform.get(0);
      String architecture = platform.get(1);
      String filename =
          "actions-runner-"
              + os
              + "-"
              + architecture
              + "-"
              + version
              + (os.equals("win") ? ".zip" : ".tar.gz");
      downloads
          .addObject()
          .put("os", os)
          .put("architecture", architecture)
          .put(
              "download_url",
              "https://github.com/actions/runner/releases/download/v" + version + "/" + filename)
          .put("filename", filename)
          .put("temp_download_token", downloadToken)
          .put("sha256_checksum", sha256(filename));
    }
    return Reply.of(200, downloads);
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * {@code GET /repos/actions/runner/releases}: the configured releases, newest first, paginated;
   * the fields of GitHub's {@code release} schema that say what and when (no author, no assets).
   */
  private Reply listRunnerReleases(Request request) throws HttpError {
    List<SimRunnerRelease> releases = rest.runnerReleases();
    List<JsonNode> items = new ArrayList<>();
    for (int i = 0; i < releases.size(); i++) {
      SimRunnerRelease release = releases.get(i);
      // Stable ids, oldest lowest, as GitHub's grow with time.
      long id = 100_000L + releases.size() - i;
      String tag = "v" + release.version();
      String api = apiUrl + "/repos/actions/runner";
      ObjectNode node = JSON.createObjectNode();
      node.put("url", api + "/releases/" + id);
      node.put("html_url", "https://github.com/actions/runner/releases/tag/" + tag);
      node.put("assets_url", api + "/releases/" + id + "/assets");
      node.put("tarball_url", api + "/tarball/" + tag);
      node.put("zipball_url", api + "/zipball/" + tag);
      node.put("id", id);
      node.put("node_id", "RE_sim" + id);
      node.put("tag_name", tag);
      node.put("target_commitish", "main");
      node.put("name", tag);
      node.put("draft", false);
      node.put("prerelease", release.prerelease());
      node.put("created_at", timestamp(release.publishedAt()));
      node.put("published_at", timestamp(release.publishedAt()));
      items.add(node);
    }
    Page page = paginate(request, items);
    return new Reply(200, JSON.createArrayNode().addAll(page.items()), page.headers());
  }

  /** {@code POST .../actions/runners/registration-token}. */
  private Reply createRegistrationToken(Request request, Matcher path) {
    return issueToken(store.registrationTokens, scope(path));
  }

  /** {@code POST .../actions/runners/remove-token}. */
  private Reply createRemoveToken(Request request, Matcher path) {
    return issueToken(store.removeTokens, scope(path));
  }

  private Reply issueToken(Map<String, SimStore.IssuedToken> tokens, String scope) {
    SimStore.IssuedToken issued = store.issue(tokens, scope);
    return Reply.of(
        201,
        JSON.createObjectNode()
            .put("token", issued.token())
            .put("expires_at", timestamp(issued.expiresAt())));
  }

  /** {@code POST .../actions/runners/generate-jitconfig}. */
  private Reply generateJitConfig(Request request, Matcher path) throws IOException, HttpError {
    JsonNode body = RequestBodySchema.GENERATE_JITCONFIG.check(request.body());
    String scope = scope(path);
    String name = body.get("name").asText();
    if (name.isBlank()) {
      throw new HttpError(422, "Invalid request.\n\n\"name\" wasn't supplied.");
    }
    JsonNode groupId = body.get("runner_group_id");
    List<String> labels = new ArrayList<>();
    body.get("labels").forEach(label -> labels.add(label.asText()));
    synchronized (store) {
      // An integer beyond a long names no group either.
      if (!groupId.canConvertToLong()
          || store.groups.stream().noneMatch(group -> group.id() == groupId.asLong())
          || (scope.startsWith("/repos/") && groupId.asLong() != 1)) {
        return Reply.notFound();
      }
      if (store.runnerNamed(scope, name).isPresent()) {
        return Reply.error(
            409, "Already exists - A runner with the name " + name + " already exists.");
      }
      SimStore.RunnerRecord runner = store.addRunner(scope, name, labels, true, groupId.asLong());
      ObjectNode config = JSON.createObjectNode();
      config.put("sim_url", apiUrl.toString());
      config.put("runner_id", runner.id);
      config.put("runner_name", runner.name);
      config.put("credential", runner.credential);
      config.put("work_folder", body.path("work_folder").asText("_work"));
      labels.forEach(config.putArray("labels")::add);
      String encoded =
          Base64.getEncoder().encodeToString(config.toString().getBytes(StandardCharsets.UTF_8));
      ObjectNode reply = JSON.createObjectNode();
      reply.set("runner", runnerJson(runner));
      reply.put("encoded_jit_config", encoded);
      return Reply.of(201, reply);
    }
  }

  /** {@code GET .../actions/runners/{runner_id}}. */
  private Reply getRunner(Request request, Matcher path) {
    String scope = scope(path);
    long id = runnerId(path);
    synchronized (store) {
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.notFound();
      }
      return Reply.of(200, runnerJson(runner));
    }
  }

  /** {@code DELETE .../actions/runners/{runner_id}}. */
  private Reply deleteRunner(Request request, Matcher path) {
    String scope = scope(path);
    long id = runnerId(path);
    synchronized (store) {
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.notFound();
      }
      if (runner.jobId != null) {
        return Reply.error(
            422, "Bad request - Runner \"" + runner.name + "\" is still running a job\"");
      }
      store.removeRunner(id);
      return Reply.noContent();
    }
  }

  /** Any other method on a runner: 404, once the id is read (one beyond a long: 500). */
  private Reply otherMethodOnRunner(Request request, Matcher path) {
    runnerId(path);
    return Reply.notFound();
  }

  /** {@code GET .../actions/runners}, optionally {@code ?name=}, paginated. */
  private Reply listRunners(Request request, Matcher path) throws HttpError {
    String scope = scope(path);
    String name = request.query().get("name");
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      for (SimStore.RunnerRecord runner : store.runners.values()) {
        if (runner.scope.equals(scope) && (name == null || runner.name.equals(name))) {
          items.add(runnerJson(runner));
        }
      }
    }
    return page(request, items, "runners");
  }

  /**
   * {@code GET /orgs/{org}/actions/runner-groups} and {@code GET
   * /enterprises/{enterprise}/actions/runner-groups}; repositories have none. The fields are the
   * {@code runner-groups-org} and {@code runner-groups-enterprise} schemas' (every required one):
   * the enterprise's has no {@code inherited}.
   */
  private Reply listRunnerGroups(Request request, Matcher path) throws HttpError {
    String scope = scope(path);
    if (scope.startsWith("/repos/")) {
      return Reply.notFound();
    }
    boolean organization = scope.startsWith("/orgs/");
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      for (SimStore.Group group : store.groups) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", group.id());
        node.put("name", group.name());
        node.put("visibility", "all");
        node.put("default", group.isDefault());
        node.put(
            "runners_url", apiUrl + scope + "/actions/runner-groups/" + group.id() + "/runners");
        if (organization) {
          node.put("inherited", false);
        }
        node.put("allows_public_repositories", false);
        node.put("restricted_to_workflows", false);
        node.putArray("selected_workflows");
        node.put("workflow_restrictions_read_only", false);
        items.add(node);
      }
    }
    return page(request, items, "runner_groups");
  }

  /**
   * {@code GET /orgs/{org}/actions/runner-groups/{runner_group_id}/runners} (and enterprises'):
   * where a group's {@code runners_url} points, paginated like the runner list.
   */
  private Reply listRunnersInGroup(Request request, Matcher path) throws HttpError {
    String scope = scope(path);
    String groupId = path.group(2);
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      boolean exists =
          store.groups.stream().anyMatch(group -> String.valueOf(group.id()).equals(groupId));
      if (scope.startsWith("/repos/") || !exists) {
        return Reply.notFound();
      }
      for (SimStore.RunnerRecord runner : store.runners.values()) {
        if (runner.scope.equals(scope) && String.valueOf(runner.groupId).equals(groupId)) {
          items.add(runnerJson(runner));
        }
      }
    }
    return page(request, items, "runners");
  }

  // ---- Workflow runs ----------------------------------------------------------------------------

  /**
   * {@code GET /repos/{owner}/{repo}/actions/runs}, newest first, paginated; {@code ?status=} keeps
   * the runs with that status ({@code queued}, {@code in_progress}, {@code completed}) or
   * conclusion ({@code success}, {@code failure}, {@code cancelled}, ...). Each simulated job is
   * the one job of its run.
   */
  private Reply listWorkflowRuns(Request request, Matcher path) throws HttpError {
    String repository = scope(path).substring("/repos/".length());
    String status = request.query().get("status");
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      List<SimStore.JobRecord> jobs = store.jobs();
      for (int i = jobs.size() - 1; i >= 0; i--) {
        SimStore.JobRecord job = jobs.get(i);
        if (job.repository.fullName().equalsIgnoreCase(repository)
            && (status == null
                || status.equals(WorkflowJson.status(job))
                || status.equals(WorkflowJson.conclusion(job)))) {
          items.add(WorkflowJson.run(job, apiUrl, rest.exists("/orgs/" + job.repository.owner())));
        }
      }
    }
    return page(request, items, "workflow_runs");
  }

  /**
   * {@code GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs}: the run's one job, paginated as
   * GitHub's; 404 for a run of another repository or none.
   */
  private Reply listWorkflowRunJobs(Request request, Matcher path) throws HttpError {
    String repository = scope(path).substring("/repos/".length());
    long runId;
    try {
      runId = Long.parseLong(path.group(2));
    } catch (NumberFormatException e) {
      return Reply.notFound();
    }
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      for (SimStore.JobRecord job : store.jobs()) {
        if (job.runId == runId && job.repository.fullName().equalsIgnoreCase(repository)) {
          String group =
              job.runnerGroupId == null ? null : store.groupName(job.runnerGroupId).orElse(null);
          items.add(WorkflowJson.job(job, apiUrl, group));
        }
      }
    }
    if (items.isEmpty()) {
      return Reply.notFound();
    }
    return page(request, items, "jobs");
  }

  /** {@code {"total_count": N, field: [one page of items]}} with GitHub's pagination. */
  private Reply page(Request request, List<JsonNode> items, String field) throws HttpError {
    Page page = paginate(request, items);
    ObjectNode reply = JSON.createObjectNode();
    reply.put("total_count", items.size());
    reply.putArray(field).addAll(page.items());
    return new Reply(200, reply, page.headers());
  }

  /** One page of items and its {@code Link} header (none when there is one page). */
  private record Page(List<JsonNode> items, Map<String, String> headers) {}

  /** GitHub's pagination: per_page (default 30, at most 100), page, a Link header. */
  private Page paginate(Request request, List<JsonNode> items) throws HttpError {
    int perPage = Math.max(1, Math.min(100, request.intParam("per_page", 30)));
    int lastPage = Math.max(1, (items.size() + perPage - 1) / perPage);
    int page = Math.max(1, request.intParam("page", 1));
    // A page beyond the last is empty, as on GitHub (and no product overflows an int).
    List<JsonNode> slice =
        page > lastPage
            ? List.of()
            : items.subList((page - 1) * perPage, Math.min(items.size(), page * perPage));
    List<String> links = new ArrayList<>();
    if (page < lastPage) {
      links.add(link(request, page + 1, "next"));
      links.add(link(request, lastPage, "last"));
    }
    if (page > 1) {
      links.add(link(request, 1, "first"));
      links.add(link(request, page - 1, "prev"));
    }
    Map<String, String> headers =
        links.isEmpty() ? Map.of() : Map.of("Link", String.join(", ", links));
    return new Page(slice, headers);
  }

  private String link(Request request, int page, String rel) {
    Map<String, String> params = new LinkedHashMap<>(request.query());
    params.put("page", String.valueOf(page));
    StringBuilder uri = new StringBuilder(apiUrl + request.path());
    String separator = "?";
    for (Map.Entry<String, String> param : params.entrySet()) {
      uri.append(separator)
          .append(URLEncoder.encode(param.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(param.getValue(), StandardCharsets.UTF_8));
      separator = "&";
    }
    return "<" + uri + ">; rel=\"" + rel + "\"";
  }

  /** GitHub's runner object; the simulated runner's endpoints answer with it too. */
  static ObjectNode runnerJson(SimStore.RunnerRecord runner) {
    ObjectNode node = JSON.createObjectNode();
    node.put("id", runner.id);
    node.put("name", runner.name);
    node.put("os", "Linux");
    node.put("status", runner.online ? "online" : "offline");
    node.put("busy", runner.jobId != null);
    node.put("ephemeral", runner.ephemeral);
    node.put("runner_group_id", runner.groupId);
    ArrayNode labels = node.putArray("labels");
    int labelId = 1;
    for (String label : runner.labels) {
      boolean builtIn =
          List.of("self-hosted", "linux", "x64", "arm64").contains(label.toLowerCase(Locale.ROOT));
      labels
          .addObject()
          .put("id", labelId++)
          .put("name", label)
          .put("type", builtIn ? "read-only" : "custom");
    }
    return node;
  }
}
