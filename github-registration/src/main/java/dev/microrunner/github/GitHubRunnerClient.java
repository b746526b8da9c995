package dev.microrunner.github;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.internal.FailureMessages;
import dev.microrunner.github.internal.GitHubHttp;
import dev.microrunner.github.internal.InstallationTokens;
import dev.microrunner.github.internal.Json;
import dev.microrunner.github.internal.LinkHeader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GitHub's REST API for self-hosted runners of one repository, organization or enterprise.
 * Thread-safe; retries and rate limits are handled inside each call (see {@link RetryPolicy}).
 */
public final class GitHubRunnerClient implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GitHubRunnerClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PAGE_SIZE = 100;

  /** Repositories have a single runner group, "Default", with id 1. */
  public static final long DEFAULT_RUNNER_GROUP_ID = 1;

  /** Threads for the HTTP client's dependent steps; requests themselves block their callers. */
  private static final int EXECUTOR_THREADS = 2;

  private final GitHubTarget target;
  private final RunnerScope scope;
  private final Credentials credentials;
  private final GitHubHttp http;
  private final FailureMessages failures;
  private final GitHubHttp.BearerSource bearer;
  private final ExecutorService executor;

  private GitHubRunnerClient(Builder builder) {
    this.target = builder.target;
    this.scope = builder.scope;
    this.credentials = builder.credentials;
    HttpClient client;
    if (builder.httpClient != null) {
      client = builder.httpClient;
      this.executor = null;
    } else {
      // The client's own executor is unbounded: one thread per request in flight, idle for a
      // minute afterwards (33 threads for 50 runner loops). Requests here are sent synchronously,
      // so the executor only runs their short dependent steps.
      this.executor = Executors.newFixedThreadPool(EXECUTOR_THREADS, GitHubRunnerClient::daemon);
      client =
          HttpClient.newBuilder()
              .connectTimeout(builder.connectTimeout)
              // A redirect could carry the token to another host; GitHub's API does not need
              // them.
              .followRedirects(HttpClient.Redirect.NEVER)
              .executor(executor)
              .build();
    }
    this.http =
        new GitHubHttp(
            client,
            builder.clock,
            builder.sleeper,
            builder.retryPolicy,
            builder.requestTimeout,
            builder.observer);
    boolean app = credentials instanceof GitHubAppCredentials;
    this.failures = new FailureMessages(scope, target, app);
    if (credentials instanceof PersonalAccessToken pat) {
      Secret token = pat.token();
      this.bearer = () -> token;
    } else {
      this.bearer =
          new InstallationTokens((GitHubAppCredentials) credentials, scope, target, http, failures);
    }
  }

  /**
   * A builder. Enterprise scope with GitHub App credentials is refused here: GitHub Apps cannot
   * manage enterprise runners.
   */
  public static Builder builder(GitHubTarget target, RunnerScope scope, Credentials credentials) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(credentials, "credentials");
    if (scope.kind() == RunnerScope.Kind.ENTERPRISE
        && credentials instanceof GitHubAppCredentials) {
      throw new IllegalArgumentException(
          "enterprise scope needs a classic personal access token with the"
              + " 'manage_runners:enterprise' scope; GitHub Apps cannot manage enterprise runners");
    }
    return new Builder(target, scope, credentials);
  }

  public GitHubTarget target() {
    return target;
  }

  public RunnerScope scope() {
    return scope;
  }

  /** The URL runners of this scope register against ({@code config.sh --url}). */
  public URI runnerUrl() {
    return scope.runnerUrl(target);
  }

  /** {@code POST SCOPE/actions/runners/registration-token}. */
  public RegistrationToken createRegistrationToken() throws GitHubException {
    return token("registration-token");
  }

  /** {@code POST SCOPE/actions/runners/remove-token}. */
  public RegistrationToken createRemoveToken() throws GitHubException {
    return token("remove-token");
  }

  /** {@code POST SCOPE/actions/runners/generate-jitconfig}; 409 when the name is taken. */
  public JitConfig generateJitConfig(JitRequest request) throws GitHubException {
    ObjectNode body = JSON.createObjectNode();
    body.put("name", request.name());
    body.put("runner_group_id", request.runnerGroupId());
    request.labels().forEach(body.putArray("labels")::add);
    request.workFolder().ifPresent(folder -> body.put("work_folder", folder));
    GitHubHttp.Response response =
        http.send(
            "POST",
            api("/actions/runners/generate-jitconfig"),
            body,
            bearer,
            Set.of(),
            (method, path, status, message) ->
                switch (status) {
                  case 409 ->
                      new GitHubConflictException(
                          "a runner named '"
                              + request.name()
                              + "' already exists in "
                              + scope
                              + ": choose another name or delete that runner");
                  case 404 ->
                      runnerGroupHint(
                          failures.explain(method, path, status, message), request.runnerGroupId());
                  default -> failures.explain(method, path, status, message);
                });
    Runner runner = Json.runner(response.body().path("runner"));
    String encoded = response.body().path("encoded_jit_config").asText("");
    if (encoded.isEmpty()) {
      throw new GitHubException(
          "GitHub's JIT config response has no encoded_jit_config", response.status(), false);
    }
    LOG.info("registered JIT runner {} (id {}) in {}", runner.name(), runner.id(), scope);
    return new JitConfig(runner, Secret.of(encoded));
  }

  /** {@code GET SCOPE/actions/runners}, every page. */
  public List<Runner> listRunners() throws GitHubException {
    return pages(api("/actions/runners?per_page=" + PAGE_SIZE), "runners", Json::runner);
  }

  /** The runner called {@code name}, found with the list's {@code name} filter. */
  public Optional<Runner> findRunnerByName(String name) throws GitHubException {
    Objects.requireNonNull(name, "name");
    URI uri =
        api(
            "/actions/runners?name="
                + URLEncoder.encode(name, StandardCharsets.UTF_8)
                + "&per_page="
                + PAGE_SIZE);
    return pages(uri, "runners", Json::runner).stream()
        .filter(runner -> runner.name().equals(name))
        .findFirst();
  }

  /** The statuses {@link #listWorkflowRuns} can filter by, as GitHub's REST API documents them. */
  public static final Set<String> WORKFLOW_RUN_STATUSES =
      Set.of(
          "completed",
          "action_required",
          "cancelled",
          "failure",
          "neutral",
          "skipped",
          "stale",
          "success",
          "timed_out",
          "in_progress",
          "queued",
          "requested",
          "waiting",
          "pending");

  /**
   * The repository's workflow runs with {@code status} ({@code queued}, {@code in_progress}, …, see
   * {@link #WORKFLOW_RUN_STATUSES}), every page: {@code GET
   * /repos/{owner}/{repo}/actions/runs?status=S}. GitHub returns at most 1,000 runs for a filtered
   * list. Needs the repository permission "Actions: read".
   *
   * @throws UnsupportedOperationException for an organization or enterprise scope: GitHub lists
   *     workflow runs per repository only
   */
  public List<WorkflowRun> listWorkflowRuns(String status) throws GitHubException {
    requireRepository("workflow runs");
    if (!WORKFLOW_RUN_STATUSES.contains(status)) {
      throw new IllegalArgumentException(
          "workflow run status '" + status + "' is not one of " + WORKFLOW_RUN_STATUSES);
    }
    return pages(
        api("/actions/runs?status=" + status + "&per_page=" + PAGE_SIZE),
        body -> body.path("workflow_runs"),
        failures.actionsRead(),
        Json::workflowRun);
  }

  /**
   * The jobs of the latest attempt of workflow run {@code runId}, every page: {@code GET
   * /repos/{owner}/{repo}/actions/runs/{run_id}/jobs}. A queued job's {@link WorkflowJob#labels()}
   * are its {@code runs-on}. Needs the repository permission "Actions: read".
   *
   * @throws UnsupportedOperationException for an organization or enterprise scope (see {@link
   *     #listWorkflowRuns})
   */
  public List<WorkflowJob> listWorkflowRunJobs(long runId) throws GitHubException {
    requireRepository("workflow jobs");
    return pages(
        api("/actions/runs/" + runId + "/jobs?per_page=" + PAGE_SIZE),
        body -> body.path("jobs"),
        failures.actionsRead(),
        Json::workflowJob);
  }

  /**
   * GitHub's primary rate limit as its latest answer to this client showed it; empty before the
   * first answer that carried the {@code x-ratelimit-*} headers. With GitHub App credentials it may
   * show the App's own window for a moment, after an installation token was fetched.
   */
  public Optional<RateLimitStatus> rateLimit() {
    return http.lastRateLimit();
  }

  private void requireRepository(String what) {
    if (scope.kind() != RunnerScope.Kind.REPO) {
      throw new UnsupportedOperationException(
          "GitHub lists " + what + " per repository only; " + scope + " is not a repository scope");
    }
  }

  /** {@code GET SCOPE/actions/runners/{id}}; empty when GitHub does not know it (404). */
  public Optional<Runner> getRunner(long id) throws GitHubException {
    GitHubHttp.Response response =
        http.send("GET", api("/actions/runners/" + id), null, bearer, Set.of(404), failures);
    if (response.status() == 404) {
      return Optional.empty();
    }
    return Optional.of(Json.runner(response.body()));
  }

  /**
   * {@code DELETE SCOPE/actions/runners/{id}}; false when it is already gone (404). GitHub refuses
   * (422) while the runner runs a job.
   */
  public boolean deleteRunner(long id) throws GitHubException {
    GitHubHttp.Response response =
        http.send(
            "DELETE",
            api("/actions/runners/" + id),
            null,
            bearer,
            Set.of(404),
            (method, path, status, message) ->
                status == 422
                    ? new GitHubValidationException(
                        "GitHub refuses to delete runner "
                            + id
                            + " of "
                            + scope
                            + " while it runs a job (HTTP 422); stop its job or try again after it"
                            + " ends")
                    : failures.explain(method, path, status, message));
    if (response.status() == 404) {
      return false;
    }
    LOG.info("deleted runner {} of {}", id, scope);
    return true;
  }

  /**
   * {@code GET SCOPE/actions/runners/downloads}: the runner application GitHub offers this scope's
   * runners, one per platform; its {@link RunnerDownload#version()} is the version GitHub serves.
   */
  public List<RunnerDownload> listRunnerDownloads() throws GitHubException {
    GitHubHttp.Response response =
        http.send("GET", api("/actions/runners/downloads"), null, bearer, Set.of(), failures);
    if (!response.body().isArray()) {
      throw new GitHubException(
          "GitHub's runner downloads response is not a list", response.status(), false);
    }
    List<RunnerDownload> downloads = new ArrayList<>();
    for (JsonNode node : response.body()) {
      downloads.add(Json.runnerDownload(node));
    }
    return downloads;
  }

  /**
   * actions/runner's published releases, newest first, with when each was published: {@code GET
   * /repos/actions/runner/releases}, every page (drafts, which are not published, are left out).
   * Asked of this client's GitHub with its credentials, like every call: github.com, or a GHES
   * host, which answers only if it has a copy of actions/runner.
   */
  public List<PublishedRunnerRelease> listRunnerReleases() throws GitHubException {
    URI first = target.api("/repos/actions/runner/releases?per_page=" + PAGE_SIZE);
    GitHubHttp.FailureExplainer explainer =
        (method, path, status, message) ->
            status == 404
                ? new GitHubNotFoundException(
                    "actions/runner's releases are not on "
                        + target.apiBase().getHost()
                        + " ("
                        + method
                        + " "
                        + path
                        + ", HTTP 404); a GitHub Enterprise Server without a copy of"
                        + " actions/runner has none")
                : failures.explain(method, path, status, message);
    List<PublishedRunnerRelease> releases = new ArrayList<>();
    for (Optional<PublishedRunnerRelease> release :
        pages(first, body -> body, explainer, Json::publishedRunnerRelease)) {
      release.ifPresent(releases::add);
    }
    // GitHub lists them by creation; what counts for runners is when they were published.
    releases.sort(Comparator.comparing(PublishedRunnerRelease::publishedAt).reversed());
    return releases;
  }

  /**
   * The id of the runner group called {@code groupName} (case-insensitive). Repositories have only
   * the default group, id 1; organizations and enterprises are asked through {@code GET
   * SCOPE/actions/runner-groups}.
   */
  public long runnerGroupId(String groupName) throws GitHubException {
    Objects.requireNonNull(groupName, "groupName");
    if (scope.kind() == RunnerScope.Kind.REPO) {
      if (!groupName.equalsIgnoreCase("Default")) {
        LOG.warn("repositories have only the Default runner group; ignoring group '{}'", groupName);
      }
      return DEFAULT_RUNNER_GROUP_ID;
    }
    List<JsonNode> groups =
        pages(api("/actions/runner-groups?per_page=" + PAGE_SIZE), "runner_groups", node -> node);
    List<String> names = new ArrayList<>();
    for (JsonNode group : groups) {
      String name = group.path("name").asText("");
      if (name.equalsIgnoreCase(groupName)) {
        return group.path("id").asLong();
      }
      names.add(name);
    }
    throw new GitHubNotFoundException(
        "runner group '"
            + groupName
            + "' does not exist in "
            + scope
            + "; its groups are "
            + names);
  }

  /**
   * Ends the threads of the HTTP client this client made; one given to the builder stays as it is.
   */
  @Override
  public void close() {
    // java.net.http.HttpClient on Java 17 has no close(); its selector thread ends once it is
    // collected.
    if (executor != null) {
      executor.shutdown();
    }
  }

  private static Thread daemon(Runnable task) {
    Thread thread = new Thread(task, "github-http");
    thread.setDaemon(true);
    return thread;
  }

  @Override
  public String toString() {
    return "GitHubRunnerClient[" + target.apiBase() + ", " + scope + ", " + credentials + "]";
  }

  private RegistrationToken token(String kind) throws GitHubException {
    GitHubHttp.Response response =
        http.send("POST", api("/actions/runners/" + kind), null, bearer, Set.of(), failures);
    String token = response.body().path("token").asText("");
    if (token.isEmpty()) {
      throw new GitHubException(
          "GitHub's " + kind + " response has no token", response.status(), false);
    }
    return new RegistrationToken(Secret.of(token), Json.instant(response.body(), "expires_at"));
  }

  /** Every page of a list GitHub wraps in an object: {@code {"total_count": N, field: [...]}}. */
  private <T> List<T> pages(URI first, String field, NodeMapper<T> mapper) throws GitHubException {
    return pages(first, body -> body.path(field), failures, mapper);
  }

  /** Every page, following {@code Link: rel="next"} on the API host only. */
  private <T> List<T> pages(
      URI first,
      Function<JsonNode, JsonNode> itemsOfPage,
      GitHubHttp.FailureExplainer explainer,
      NodeMapper<T> mapper)
      throws GitHubException {
    List<T> items = new ArrayList<>();
    URI next = first;
    for (int page = 1; next != null; page++) {
      if (page > 1000) {
        throw new GitHubException(
            "GitHub's pagination for " + first.getRawPath() + " does not end", 0, false);
      }
      GitHubHttp.Response response = http.send("GET", next, null, bearer, Set.of(), explainer);
      for (JsonNode node : itemsOfPage.apply(response.body())) {
        items.add(mapper.map(node));
      }
      next = LinkHeader.next(response.headers()).orElse(null);
      if (next != null && !sameOrigin(next, target.apiBase())) {
        // Following it would send the token to another host.
        throw new GitHubException(
            "GitHub's Link header points to another host ("
                + next.getHost()
                + "); refusing to follow it",
            response.status(),
            false);
      }
    }
    return items;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return Objects.equals(a.getScheme(), b.getScheme())
        && Objects.equals(a.getHost(), b.getHost())
        && effectivePort(a) == effectivePort(b);
  }

  private static int effectivePort(URI uri) {
    if (uri.getPort() != -1) {
      return uri.getPort();
    }
    return "https".equals(uri.getScheme()) ? 443 : 80;
  }

  private GitHubException runnerGroupHint(GitHubException notFound, long groupId) {
    return new GitHubNotFoundException(
        notFound.getMessage() + " (or runner group " + groupId + " does not exist)");
  }

  private URI api(String suffix) {
    return target.api(scope.apiPath() + suffix);
  }

  @FunctionalInterface
  private interface NodeMapper<T> {
    T map(JsonNode node) throws GitHubException;
  }

  /** Options of {@link GitHubRunnerClient}. */
  public static final class Builder {
    private final GitHubTarget target;
    private final RunnerScope scope;
    private final Credentials credentials;
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = Sleeper.SYSTEM;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration requestTimeout = Duration.ofSeconds(30);
    private HttpClient httpClient;
    private GitHubCallObserver observer = GitHubCallObserver.none();

    private Builder(GitHubTarget target, RunnerScope scope, Credentials credentials) {
      this.target = target;
      this.scope = scope;
      this.credentials = credentials;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock);
      return this;
    }

    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper);
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy);
      return this;
    }

    /** Tells {@code observer} about every exchange with GitHub (metrics); never a secret. */
    public Builder observer(GitHubCallObserver observer) {
      this.observer = Objects.requireNonNull(observer);
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connect timeout");
      return this;
    }

    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "request timeout");
      return this;
    }

    /**
     * A client of your own (proxy, TLS settings); its connect timeout then applies. It must not
     * follow redirects: the JDK client repeats the request's headers, the token among them, to
     * wherever a redirect points.
     */
    public Builder httpClient(HttpClient httpClient) {
      Objects.requireNonNull(httpClient);
      if (httpClient.followRedirects() != HttpClient.Redirect.NEVER) {
        throw new IllegalArgumentException(
            "the HTTP client follows redirects ("
                + httpClient.followRedirects()
                + "), which could carry the GitHub token to another host; build it with"
                + " followRedirects(HttpClient.Redirect.NEVER)");
      }
      this.httpClient = httpClient;
      return this;
    }

    public GitHubRunnerClient build() {
      return new GitHubRunnerClient(this);
    }

    private static Duration positive(Duration duration, String what) {
      if (duration == null || duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, got " + duration);
      }
      return duration;
    }
  }
}
