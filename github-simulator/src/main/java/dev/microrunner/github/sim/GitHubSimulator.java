package dev.microrunner.github.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A GitHub simulator on 127.0.0.1: the self-hosted runner endpoints of GitHub's REST API (same
 * paths, status codes, headers and JSON), GitHub App installation tokens, a job queue served to
 * {@link SimulatedRunner}, and control endpoints under {@code /_sim/} (see docs/github.md).
 *
 * <p>The control endpoints need no authentication: the simulator listens on the loopback interface
 * only and is meant for tests and the demo.
 */
public final class GitHubSimulator implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GitHubSimulator.class);
  static final ObjectMapper JSON = new ObjectMapper();
  private static final String DOCS = "https://docs.github.com/rest";
  private static final int RATE_LIMIT = 5000;
  private static final Duration MAX_LONG_POLL = Duration.ofSeconds(30);
  private static final Pattern SCOPED =
      Pattern.compile("^/(repos/[^/]+/[^/]+|orgs/[^/]+|enterprises/[^/]+)(/.*)$");
  private static final Pattern RUNNER_ID = Pattern.compile("^/actions/runners/(\\d+)$");
  private static final Pattern ACCESS_TOKENS =
      Pattern.compile("^/app/installations/(\\d+)/access_tokens$");
  private static final Pattern JOB_COMPLETE =
      Pattern.compile("^/_sim/runner/jobs/(\\d+)/complete$");

  static {
    // Without TCP_NODELAY the JDK server's small writes meet the client's delayed ACK: ~40 ms per
    // request. Read once when the JDK server is first used; an explicit setting wins.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final SimStore store;
  private final HttpServer server;
  private final ExecutorService executor;
  private final URI apiUrl;
  private final Instant rateLimitWindowStart;

  private GitHubSimulator(SimulatorOptions options) throws IOException {
    this.store = new SimStore(options.clock(), options.tokenLifetime());
    this.server =
        HttpServer.create(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), options.port()), 64);
    AtomicInteger threads = new AtomicInteger();
    this.executor =
        Executors.newCachedThreadPool(
            task -> {
              Thread thread = new Thread(task, "github-sim-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            });
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    this.apiUrl = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    this.rateLimitWindowStart = options.clock().instant();
    LOG.info("GitHub simulator listening on {}", apiUrl);
  }

  /** Starts a simulator; {@code options.port() == 0} picks a free port. */
  public static GitHubSimulator start(SimulatorOptions options) throws IOException {
    return new GitHubSimulator(options);
  }

  /** The API base and runner URL base: {@code http://127.0.0.1:PORT}. */
  public URI apiUrl() {
    return apiUrl;
  }

  /** Accepts {@code pat} as a personal access token from now on. */
  public void acceptToken(String pat) {
    store.acceptedTokens.add(pat);
  }

  /**
   * Registers a GitHub App by its app id or client id (the JWT's {@code iss}) and public key; it is
   * installed on every principal. Returns its installation id.
   */
  public long registerApp(String appIdOrClientId, PublicKey publicKey) {
    return store.registerApp(appIdOrClientId, publicKey);
  }

  /** Adds a runner group to every organization and enterprise; returns its id. */
  public long addRunnerGroup(String name) {
    return store.addGroup(name);
  }

  public void enqueueJob(SimJob job) {
    store.enqueue(List.of(job));
  }

  public SimState state() {
    return store.snapshot();
  }

  public void injectFault(Fault fault) {
    synchronized (store) {
      switch (fault.kind()) {
        case PRIMARY_RATE_LIMIT -> {
          store.primaryRateLimited = fault.requests();
          store.primaryStatus = fault.status();
          store.primaryResetAfter = fault.duration();
        }
        case SECONDARY_RATE_LIMIT -> {
          store.secondaryRateLimited = fault.requests();
          store.secondaryStatus = fault.status();
          store.secondaryRetryAfter = fault.duration();
        }
        case SERVER_ERROR -> {
          store.serverErrors = fault.requests();
          store.serverErrorStatus = fault.status();
        }
        case LATENCY -> store.latency = fault.duration();
      }
    }
  }

  /** Removes every pending fault and the latency. */
  public void clearFaults() {
    synchronized (store) {
      store.primaryRateLimited = 0;
      store.secondaryRateLimited = 0;
      store.serverErrors = 0;
      store.latency = Duration.ZERO;
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    synchronized (store) {
      store.notifyAll();
    }
  }

  // ---------------------------------------------------------------------------------------------

  private record Reply(int status, JsonNode body, Map<String, String> headers) {
    static Reply of(int status, JsonNode body) {
      return new Reply(status, body, Map.of());
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Reply reply;
      String path = exchange.getRequestURI().getRawPath();
      try {
        reply = path.startsWith("/_sim/") ? control(exchange, path) : api(exchange, path);
      } catch (BadRequest e) {
        reply = Reply.of(e.status, error(e.getMessage()));
      } catch (SimStateJson.BadRequestException e) {
        reply = Reply.of(422, error(e.getMessage()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        reply = Reply.of(503, error("simulator shutting down"));
      } catch (RuntimeException e) {
        LOG.warn("simulator failed on {} {}", exchange.getRequestMethod(), path, e);
        reply = Reply.of(500, error("Server Error"));
      }
      send(exchange, reply);
    }
  }

  private static void send(HttpExchange exchange, Reply reply) throws IOException {
    reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
    if (reply.body() == null) {
      exchange.sendResponseHeaders(reply.status(), -1);
      return;
    }
    byte[] bytes = JSON.writeValueAsBytes(reply.body());
    exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
    exchange.sendResponseHeaders(reply.status(), bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static final class BadRequest extends Exception {
    final int status;

    BadRequest(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private static ObjectNode error(String message) {
    return JSON.createObjectNode().put("message", message).put("documentation_url", DOCS);
  }

  private static JsonNode body(HttpExchange exchange) throws IOException, BadRequest {
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(1024 * 1024);
      if (bytes.length == 0) {
        return JSON.createObjectNode();
      }
      try {
        return JSON.readTree(bytes);
      } catch (IOException e) {
        throw new BadRequest(400, "Problems parsing JSON");
      }
    }
  }

  private static Map<String, String> query(HttpExchange exchange) {
    Map<String, String> values = new LinkedHashMap<>();
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw == null || raw.isEmpty()) {
      return values;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      values.put(
          URLDecoder.decode(key, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return values;
  }

  private static Optional<String> bearer(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null) {
      return Optional.empty();
    }
    for (String scheme : List.of("Bearer ", "bearer ", "token ")) {
      if (header.startsWith(scheme)) {
        return Optional.of(header.substring(scheme.length()).trim());
      }
    }
    return Optional.empty();
  }

  private static String timestamp(Instant instant) {
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(instant.atOffset(ZoneOffset.UTC));
  }

  // ---- GitHub REST API ----------------------------------------------------------------------

  private Reply api(HttpExchange exchange, String path)
      throws IOException, BadRequest, InterruptedException {
    Duration latency;
    Reply fault;
    synchronized (store) {
      store.apiRequests++;
      latency = store.latency;
      fault = takeFault();
    }
    if (!latency.isZero()) {
      Thread.sleep(latency.toMillis());
    }
    Reply reply;
    try {
      reply = fault != null ? fault : route(exchange, path);
    } catch (BadRequest e) {
      // Refusals (bad JSON, 422, a JWT that does not verify) count against the rate limit on
      // GitHub and carry its headers like any other answer.
      reply = Reply.of(e.status, error(e.getMessage()));
    }
    Map<String, String> headers = new LinkedHashMap<>(rateLimitHeaders());
    headers.putAll(reply.headers());
    headers.putIfAbsent("X-GitHub-Api-Version-Selected", "2022-11-28");
    return new Reply(reply.status(), reply.body(), headers);
  }

  private Map<String, String> rateLimitHeaders() {
    synchronized (store) {
      long used = Math.min(RATE_LIMIT, store.apiRequests);
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("x-ratelimit-limit", String.valueOf(RATE_LIMIT));
      headers.put("x-ratelimit-remaining", String.valueOf(RATE_LIMIT - used));
      headers.put("x-ratelimit-used", String.valueOf(used));
      headers.put(
          "x-ratelimit-reset",
          String.valueOf(rateLimitWindowStart.plus(Duration.ofHours(1)).getEpochSecond()));
      headers.put("x-ratelimit-resource", "core");
      return headers;
    }
  }

  /** Under the store's monitor. */
  private Reply takeFault() {
    if (store.primaryRateLimited > 0) {
      store.primaryRateLimited--;
      Map<String, String> headers = new LinkedHashMap<>();
      headers.put("x-ratelimit-limit", String.valueOf(RATE_LIMIT));
      headers.put("x-ratelimit-remaining", "0");
      headers.put("x-ratelimit-used", String.valueOf(RATE_LIMIT));
      headers.put(
          "x-ratelimit-reset",
          String.valueOf(store.now().plus(store.primaryResetAfter).getEpochSecond()));
      headers.put("x-ratelimit-resource", "core");
      return new Reply(
          store.primaryStatus,
          JSON.createObjectNode()
              .put("message", "API rate limit exceeded for user ID 1.")
              .put("documentation_url", DOCS + "/overview/rate-limits-for-the-rest-api"),
          headers);
    }
    if (store.secondaryRateLimited > 0) {
      store.secondaryRateLimited--;
      Map<String, String> headers = new LinkedHashMap<>();
      if (!store.secondaryRetryAfter.isZero()) {
        headers.put("retry-after", String.valueOf(store.secondaryRetryAfter.toSeconds()));
      }
      return new Reply(
          store.secondaryStatus,
          JSON.createObjectNode()
              .put(
                  "message",
                  "You have exceeded a secondary rate limit. Please wait a few minutes before you"
                      + " try again.")
              .put("documentation_url", DOCS + "/overview/rate-limits-for-the-rest-api"),
          headers);
    }
    if (store.serverErrors > 0) {
      store.serverErrors--;
      return Reply.of(store.serverErrorStatus, error("Server Error"));
    }
    return null;
  }

  private Reply route(HttpExchange exchange, String path) throws IOException, BadRequest {
    String method = exchange.getRequestMethod();
    store.expireTokens();
    Matcher accessTokens = ACCESS_TOKENS.matcher(path);
    if (accessTokens.matches()) {
      SimStore.App app = verifyJwt(exchange);
      if (!method.equals("POST")) {
        return Reply.of(404, error("Not Found"));
      }
      if (app.installationId() != Long.parseLong(accessTokens.group(1))) {
        return Reply.of(404, error("Not Found"));
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
    Matcher scoped = SCOPED.matcher(path);
    if (!scoped.matches()) {
      return Reply.of(404, error("Not Found"));
    }
    String scope = "/" + scoped.group(1);
    String rest = scoped.group(2);
    if (rest.equals("/installation")) {
      SimStore.App app = verifyJwt(exchange);
      if (!method.equals("GET") || scope.startsWith("/enterprises/")) {
        return Reply.of(404, error("Not Found"));
      }
      ObjectNode reply = JSON.createObjectNode();
      reply.put("id", app.installationId());
      reply.put("app_id", app.appId());
      String login = scope.split("/")[2];
      reply.putObject("account").put("login", login);
      reply.put("target_type", scope.startsWith("/orgs/") ? "Organization" : "User");
      return Reply.of(200, reply);
    }
    Optional<String> token = bearer(exchange);
    if (token.isEmpty() || !store.authenticates(token.get())) {
      return Reply.of(401, error("Bad credentials"));
    }
    Matcher runnerId = RUNNER_ID.matcher(rest);
    if (runnerId.matches()) {
      long id = Long.parseLong(runnerId.group(1));
      return switch (method) {
        case "GET" -> getRunner(scope, id);
        case "DELETE" -> deleteRunner(scope, id);
        default -> Reply.of(404, error("Not Found"));
      };
    }
    return switch (method + " " + rest) {
      case "POST /actions/runners/registration-token" ->
          issueToken(store.registrationTokens, scope);
      case "POST /actions/runners/remove-token" -> issueToken(store.removeTokens, scope);
      case "POST /actions/runners/generate-jitconfig" -> generateJitConfig(scope, body(exchange));
      case "GET /actions/runners" -> listRunners(exchange, scope);
      case "GET /actions/runner-groups" ->
          scope.startsWith("/repos/") ? Reply.of(404, error("Not Found")) : listGroups(exchange);
      default -> Reply.of(404, error("Not Found"));
    };
  }

  private Reply issueToken(Map<String, SimStore.IssuedToken> tokens, String scope) {
    SimStore.IssuedToken issued = store.issue(tokens, scope);
    return Reply.of(
        201,
        JSON.createObjectNode()
            .put("token", issued.token())
            .put("expires_at", timestamp(issued.expiresAt())));
  }

  private Reply generateJitConfig(String scope, JsonNode request) throws BadRequest {
    String name = request.path("name").asText("");
    if (name.isBlank()) {
      throw new BadRequest(422, "Invalid request.\n\n\"name\" wasn't supplied.");
    }
    if (!request.path("runner_group_id").canConvertToLong()) {
      throw new BadRequest(422, "Invalid request.\n\n\"runner_group_id\" wasn't supplied.");
    }
    long groupId = request.path("runner_group_id").asLong();
    List<String> labels = new ArrayList<>();
    request.path("labels").forEach(label -> labels.add(label.asText()));
    if (labels.isEmpty() || labels.size() > 100) {
      throw new BadRequest(422, "Invalid request.\n\nlabels must have between 1 and 100 items.");
    }
    synchronized (store) {
      if (store.groups.stream().noneMatch(group -> group.id() == groupId)
          || scope.startsWith("/repos/") && groupId != 1) {
        return Reply.of(404, error("Not Found"));
      }
      if (store.runnerNamed(scope, name).isPresent()) {
        return Reply.of(
            409, error("Already exists - A runner with the name " + name + " already exists."));
      }
      SimStore.RunnerRecord runner = store.addRunner(scope, name, labels, true, groupId);
      ObjectNode config = JSON.createObjectNode();
      config.put("sim_url", apiUrl.toString());
      config.put("runner_id", runner.id);
      config.put("runner_name", runner.name);
      config.put("credential", runner.credential);
      config.put("work_folder", request.path("work_folder").asText("_work"));
      labels.forEach(config.putArray("labels")::add);
      String encoded =
          Base64.getEncoder().encodeToString(config.toString().getBytes(StandardCharsets.UTF_8));
      ObjectNode reply = JSON.createObjectNode();
      reply.set("runner", runnerJson(runner));
      reply.put("encoded_jit_config", encoded);
      return Reply.of(201, reply);
    }
  }

  private Reply getRunner(String scope, long id) {
    synchronized (store) {
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.of(404, error("Not Found"));
      }
      return Reply.of(200, runnerJson(runner));
    }
  }

  private Reply deleteRunner(String scope, long id) {
    synchronized (store) {
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.of(404, error("Not Found"));
      }
      if (runner.jobId != null) {
        return Reply.of(
            422, error("Bad request - Runner \"" + runner.name + "\" is still running a job\""));
      }
      store.removeRunner(id);
      return new Reply(204, null, Map.of());
    }
  }

  private Reply listRunners(HttpExchange exchange, String scope) throws BadRequest {
    Map<String, String> query = query(exchange);
    String name = query.get("name");
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      for (SimStore.RunnerRecord runner : store.runners.values()) {
        if (runner.scope.equals(scope) && (name == null || runner.name.equals(name))) {
          items.add(runnerJson(runner));
        }
      }
    }
    return page(exchange, query, items, "runners");
  }

  private Reply listGroups(HttpExchange exchange) throws BadRequest {
    List<JsonNode> items = new ArrayList<>();
    synchronized (store) {
      for (SimStore.Group group : store.groups) {
        ObjectNode node = JSON.createObjectNode();
        node.put("id", group.id());
        node.put("name", group.name());
        node.put("visibility", "all");
        node.put("default", group.isDefault());
        node.put("inherited", false);
        node.put("allows_public_repositories", false);
        node.put("restricted_to_workflows", false);
        items.add(node);
      }
    }
    return page(exchange, query(exchange), items, "runner_groups");
  }

  /** GitHub's pagination: per_page (default 30, at most 100), page, a Link header. */
  private Reply page(
      HttpExchange exchange, Map<String, String> query, List<JsonNode> items, String field)
      throws BadRequest {
    int perPage = intParam(query, "per_page", 30);
    int page = intParam(query, "page", 1);
    perPage = Math.max(1, Math.min(100, perPage));
    page = Math.max(1, page);
    int lastPage = Math.max(1, (items.size() + perPage - 1) / perPage);
    ObjectNode reply = JSON.createObjectNode();
    reply.put("total_count", items.size());
    ArrayNode array = reply.putArray(field);
    int from = (page - 1) * perPage;
    for (int i = from; i < Math.min(items.size(), from + perPage); i++) {
      array.add(items.get(i));
    }
    List<String> links = new ArrayList<>();
    if (page < lastPage) {
      links.add(link(exchange, query, page + 1, "next"));
      links.add(link(exchange, query, lastPage, "last"));
    }
    if (page > 1) {
      links.add(link(exchange, query, 1, "first"));
      links.add(link(exchange, query, page - 1, "prev"));
    }
    Map<String, String> headers =
        links.isEmpty() ? Map.of() : Map.of("Link", String.join(", ", links));
    return new Reply(200, reply, headers);
  }

  private String link(HttpExchange exchange, Map<String, String> query, int page, String rel) {
    Map<String, String> params = new LinkedHashMap<>(query);
    params.put("page", String.valueOf(page));
    StringBuilder uri = new StringBuilder(apiUrl + exchange.getRequestURI().getRawPath());
    String separator = "?";
    for (Map.Entry<String, String> param : params.entrySet()) {
      uri.append(separator)
          .append(java.net.URLEncoder.encode(param.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(java.net.URLEncoder.encode(param.getValue(), StandardCharsets.UTF_8));
      separator = "&";
    }
    return "<" + uri + ">; rel=\"" + rel + "\"";
  }

  private static int intParam(Map<String, String> query, String name, int fallback)
      throws BadRequest {
    String value = query.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new BadRequest(422, "Invalid request.\n\n\"" + name + "\" is not a number.");
    }
  }

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

  private SimStore.App verifyJwt(HttpExchange exchange) throws BadRequest {
    Optional<String> token = bearer(exchange);
    if (token.isEmpty()) {
      throw new BadRequest(401, "A JSON web token could not be decoded");
    }
    synchronized (store) {
      return SimJwt.verify(token.get(), store.apps, store.now())
          .orElseThrow(() -> new BadRequest(401, "A JSON web token could not be decoded"));
    }
  }

  // ---- /_sim/ ------------------------------------------------------------------------------

  private Reply control(HttpExchange exchange, String path)
      throws IOException, BadRequest, InterruptedException, SimStateJson.BadRequestException {
    String method = exchange.getRequestMethod();
    switch (method + " " + path) {
      case "GET /_sim/state":
        return Reply.of(200, SimStateJson.toJson(store.snapshot()));
      case "POST /_sim/jobs":
        return enqueue(body(exchange));
      case "POST /_sim/faults":
        injectFault(SimStateJson.fault(body(exchange)));
        return new Reply(204, null, Map.of());
      case "DELETE /_sim/faults":
        clearFaults();
        return new Reply(204, null, Map.of());
      case "POST /_sim/runner/register":
        return registerRunner(remoteAuth(exchange), body(exchange));
      case "POST /_sim/runner/unregister":
        return unregisterRunner(remoteAuth(exchange), body(exchange));
      default:
        break;
    }
    SimStore.RunnerRecord runner = runnerFromCredential(exchange);
    Matcher complete = JOB_COMPLETE.matcher(path);
    if (method.equals("POST") && complete.matches()) {
      String result = body(exchange).path("result").asText("Succeeded");
      if (!store.completeJob(runner.id, Long.parseLong(complete.group(1)), result)) {
        return Reply.of(404, error("Not Found"));
      }
      return new Reply(204, null, Map.of());
    }
    switch (method + " " + path) {
      case "POST /_sim/runner/connect":
        if (!store.connect(runner.id)) {
          // GitHub allows one listener session per runner: a JIT config started twice fails.
          return Reply.of(409, error("A session for this runner already exists."));
        }
        return Reply.of(200, runnerJson(runner));
      case "POST /_sim/runner/disconnect":
        store.disconnect(runner.id);
        return new Reply(204, null, Map.of());
      case "GET /_sim/runner/jobs":
        Duration wait = Duration.ofMillis(intParam(query(exchange), "wait_ms", 0));
        if (wait.compareTo(MAX_LONG_POLL) > 0) {
          wait = MAX_LONG_POLL;
        }
        Optional<SimStore.JobRecord> job = store.takeJob(runner.id, wait);
        if (job.isEmpty()) {
          synchronized (store) {
            if (!store.runners.containsKey(runner.id)) {
              return Reply.of(404, error("runner was removed"));
            }
          }
          return new Reply(204, null, Map.of());
        }
        ObjectNode reply = JSON.createObjectNode();
        reply.put("id", job.get().id);
        reply.put("name", job.get().job.name());
        reply.put("duration_ms", job.get().job.duration().toMillis());
        job.get().job.labels().forEach(reply.putArray("labels")::add);
        return Reply.of(200, reply);
      default:
        return Reply.of(404, error("Not Found"));
    }
  }

  private Reply enqueue(JsonNode body) throws SimStateJson.BadRequestException {
    List<SimJob> jobs = new ArrayList<>();
    for (JsonNode node : body.isArray() ? body : JSON.createArrayNode().add(body)) {
      jobs.add(SimStateJson.job(node));
    }
    ObjectNode reply = JSON.createObjectNode();
    ArrayNode ids = reply.putArray("jobs");
    for (SimStore.JobRecord record : store.enqueue(jobs)) {
      ids.addObject().put("id", record.id).put("name", record.job.name());
    }
    return Reply.of(201, reply);
  }

  private static String remoteAuth(HttpExchange exchange) throws BadRequest {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null || !header.startsWith("RemoteAuth ")) {
      throw new BadRequest(401, "Bad credentials");
    }
    return header.substring("RemoteAuth ".length()).trim();
  }

  private SimStore.RunnerRecord runnerFromCredential(HttpExchange exchange) throws BadRequest {
    Optional<String> credential = bearer(exchange);
    if (credential.isEmpty()) {
      throw new BadRequest(401, "Bad credentials");
    }
    return store
        .runnerByCredential(credential.get())
        .orElseThrow(() -> new BadRequest(404, "runner was removed"));
  }

  /** {@code config.sh}: registers a runner with a registration token, as GitHub's runner API. */
  private Reply registerRunner(String token, JsonNode request) throws BadRequest {
    String scope = scopeOfRunnerUrl(request.path("url").asText(""));
    String name = request.path("name").asText("");
    if (name.isBlank()) {
      throw new BadRequest(422, "runner name is missing");
    }
    synchronized (store) {
      store.expireTokens();
      if (!store.validToken(store.registrationTokens, token, scope)) {
        throw new BadRequest(
            401, "Bad credentials: registration token unknown, expired or for another scope");
      }
      String groupName = request.path("runner_group").asText("Default");
      SimStore.Group group =
          store.groups.stream()
              .filter(candidate -> candidate.name().equalsIgnoreCase(groupName))
              .findFirst()
              .orElseThrow(
                  () ->
                      new BadRequest(
                          404,
                          "Could not find any self-hosted runner group named \""
                              + groupName
                              + "\"."));
      Optional<SimStore.RunnerRecord> existing = store.runnerNamed(scope, name);
      if (existing.isPresent()) {
        if (!request.path("replace").asBoolean(false)) {
          return Reply.of(409, error("A runner exists with the same name " + name + "."));
        }
        store.removeRunner(existing.get().id);
      }
      List<String> labels = new ArrayList<>();
      if (!request.path("no_default_labels").asBoolean(false)) {
        labels.addAll(List.of("self-hosted", "Linux", "X64"));
      }
      request.path("labels").forEach(label -> labels.add(label.asText()));
      SimStore.RunnerRecord runner =
          store.addRunner(
              scope, name, labels, request.path("ephemeral").asBoolean(false), group.id());
      ObjectNode reply = runnerJson(runner);
      reply.put("credential", runner.credential);
      return Reply.of(201, reply);
    }
  }

  /** {@code config.sh remove}: removes a runner with a remove token. */
  private Reply unregisterRunner(String token, JsonNode request) throws BadRequest {
    String scope = scopeOfRunnerUrl(request.path("url").asText(""));
    long id = request.path("id").asLong(0);
    synchronized (store) {
      store.expireTokens();
      if (!store.validToken(store.removeTokens, token, scope)) {
        throw new BadRequest(
            401, "Bad credentials: remove token unknown, expired or for another scope");
      }
      SimStore.RunnerRecord runner = store.runners.get(id);
      if (runner == null || !runner.scope.equals(scope)) {
        return Reply.of(404, error("Not Found"));
      }
      store.removeRunner(id);
      return new Reply(204, null, Map.of());
    }
  }

  /** {@code http://127.0.0.1:P/o/r} -> {@code /repos/o/r}, {@code /o} -> {@code /orgs/o}, ... */
  static String scopeOfRunnerUrl(String url) throws BadRequest {
    String path;
    try {
      path = URI.create(url).getPath();
    } catch (IllegalArgumentException e) {
      throw new BadRequest(422, "invalid runner URL '" + url + "'");
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
    throw new BadRequest(
        422, "runner URL '" + url + "' names no repository, organization or enterprise");
  }
}
