package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

/**
 * The JSON of a simulated job and its workflow run, shared by the workflow run endpoints and the
 * {@code workflow_job} webhooks: GitHub's {@code job} and {@code workflow-run} schemas (REST API
 * 2022-11-28) and the webhook's {@code workflow_job}, {@code repository} and {@code sender}
 * objects. Read under the store's monitor: a job changes under it.
 */
final class WorkflowJson {

  /** The simulated workflow that every run belongs to. */
  static final String WORKFLOW_NAME = "sim";

  static final long WORKFLOW_ID = 161_335;

  private WorkflowJson() {}

  /** GitHub's status of a job: {@code queued}, {@code in_progress} or {@code completed}. */
  static String status(SimStore.JobRecord job) {
    return job.status();
  }

  /** GitHub's conclusion for the runner's result: {@code success}, {@code failure}, ... */
  static String conclusion(SimStore.JobRecord job) {
    if (job.finishedAt == null) {
      return null;
    }
    String result = job.result == null ? "" : job.result.toLowerCase(Locale.ROOT);
    return switch (result) {
      case "succeeded" -> "success";
      case "failed" -> "failure";
      case "canceled", "cancelled" -> "cancelled";
      case "skipped" -> "skipped";
      default -> "failure";
    };
  }

  /** A workflow job: REST's {@code job}, and the webhook's {@code workflow_job}. */
  static ObjectNode job(SimStore.JobRecord job, URI apiUrl, String groupName) {
    String repoApi = apiUrl + "/repos/" + job.repository.fullName();
    String repoHtml = apiUrl + "/" + job.repository.fullName();
    ObjectNode node = JSON.createObjectNode();
    node.put("id", job.id);
    node.put("run_id", job.runId);
    node.put("workflow_name", WORKFLOW_NAME);
    node.put("head_branch", "main");
    node.put("run_url", repoApi + "/actions/runs/" + job.runId);
    node.put("run_attempt", 1);
    node.put("node_id", "CR_sim" + job.id);
    node.put("head_sha", headSha(job));
    node.put("url", repoApi + "/actions/jobs/" + job.id);
    node.put("html_url", repoHtml + "/actions/runs/" + job.runId + "/job/" + job.id);
    node.put("status", status(job));
    putNullable(node, "conclusion", conclusion(job));
    node.put("created_at", timestamp(job.queuedAt));
    node.put("started_at", timestamp(job.startedAt == null ? job.queuedAt : job.startedAt));
    putNullable(node, "completed_at", job.finishedAt == null ? null : timestamp(job.finishedAt));
    node.put("name", job.job.name());
    node.putArray("steps");
    node.put("check_run_url", repoApi + "/check-runs/" + job.id);
    job.job.labels().forEach(node.putArray("labels")::add);
    if (job.runnerId == null) {
      node.putNull("runner_id");
      node.putNull("runner_name");
      node.putNull("runner_group_id");
      node.putNull("runner_group_name");
    } else {
      node.put("runner_id", job.runnerId);
      node.put("runner_name", job.runnerName);
      node.put("runner_group_id", job.runnerGroupId);
      putNullable(node, "runner_group_name", groupName);
    }
    return node;
  }

  /** The job's workflow run: REST's {@code workflow-run}, the fields that say what and when. */
  static ObjectNode run(SimStore.JobRecord job, URI apiUrl, boolean ownedByOrganization) {
    String repoApi = apiUrl + "/repos/" + job.repository.fullName();
    ObjectNode node = JSON.createObjectNode();
    node.put("id", job.runId);
    node.put("name", WORKFLOW_NAME);
    node.put("node_id", "WFR_sim" + job.runId);
    node.put("head_branch", "main");
    node.put("head_sha", headSha(job));
    node.put("path", ".github/workflows/" + WORKFLOW_NAME + ".yml");
    node.put("display_title", job.job.name());
    node.put("run_number", job.id);
    node.put("event", "workflow_dispatch");
    node.put("status", status(job));
    putNullable(node, "conclusion", conclusion(job));
    node.put("workflow_id", WORKFLOW_ID);
    node.put("url", repoApi + "/actions/runs/" + job.runId);
    node.put("html_url", apiUrl + "/" + job.repository.fullName() + "/actions/runs/" + job.runId);
    node.put("jobs_url", repoApi + "/actions/runs/" + job.runId + "/jobs");
    node.put("created_at", timestamp(job.queuedAt));
    Instant updated =
        job.finishedAt != null
            ? job.finishedAt
            : job.startedAt != null ? job.startedAt : job.queuedAt;
    node.put("updated_at", timestamp(updated));
    node.put("run_attempt", 1);
    node.put("run_started_at", timestamp(job.queuedAt));
    node.set("repository", repository(job.repository, apiUrl, ownedByOrganization));
    return node;
  }

  /**
   * The URL templates of a repository that GitHub's {@code repository-webhooks} schema requires, by
   * field, relative to the repository's API URL.
   */
  private static final String[][] REPOSITORY_URLS = {
    {"archive_url", "/{archive_format}{/ref}"},
    {"assignees_url", "/assignees{/user}"},
    {"blobs_url", "/git/blobs{/sha}"},
    {"branches_url", "/branches{/branch}"},
    {"collaborators_url", "/collaborators{/collaborator}"},
    {"comments_url", "/comments{/number}"},
    {"commits_url", "/commits{/sha}"},
    {"compare_url", "/compare/{base}...{head}"},
    {"contents_url", "/contents/{+path}"},
    {"contributors_url", "/contributors"},
    {"deployments_url", "/deployments"},
    {"downloads_url", "/downloads"},
    {"events_url", "/events"},
    {"forks_url", "/forks"},
    {"git_commits_url", "/git/commits{/sha}"},
    {"git_refs_url", "/git/refs{/sha}"},
    {"git_tags_url", "/git/tags{/sha}"},
    {"hooks_url", "/hooks"},
    {"issue_comment_url", "/issues/comments{/number}"},
    {"issue_events_url", "/issues/events{/number}"},
    {"issues_url", "/issues{/number}"},
    {"keys_url", "/keys{/key_id}"},
    {"labels_url", "/labels{/name}"},
    {"languages_url", "/languages"},
    {"merges_url", "/merges"},
    {"milestones_url", "/milestones{/number}"},
    {"notifications_url", "/notifications{?since,all,participating}"},
    {"pulls_url", "/pulls{/number}"},
    {"releases_url", "/releases{/id}"},
    {"stargazers_url", "/stargazers"},
    {"statuses_url", "/statuses/{sha}"},
    {"subscribers_url", "/subscribers"},
    {"subscription_url", "/subscription"},
    {"tags_url", "/tags"},
    {"teams_url", "/teams"},
    {"trees_url", "/git/trees{/sha}"},
  };

  /**
   * A repository as webhooks and workflow runs show it: every field GitHub's {@code
   * repository-webhooks} schema requires, so that a receiver validating payloads accepts it.
   *
   * @param ownedByOrganization whether its owner is a declared organization
   */
  static ObjectNode repository(
      RestApiState.Repository repository, URI apiUrl, boolean ownedByOrganization) {
    String api = apiUrl + "/repos/" + repository.fullName();
    String html = apiUrl + "/" + repository.fullName();
    ObjectNode node = JSON.createObjectNode();
    node.put("id", repository.id());
    node.put("node_id", "R_sim" + repository.id());
    node.put("name", repository.name());
    node.put("full_name", repository.fullName());
    node.put("private", true);
    node.set(
        "owner",
        account(repository.owner(), ownedByOrganization ? "Organization" : "User", apiUrl));
    node.put("html_url", html);
    node.putNull("description");
    node.put("fork", false);
    node.put("url", api);
    for (String[] template : REPOSITORY_URLS) {
      node.put(template[0], api + template[1]);
    }
    node.put("clone_url", html + ".git");
    node.put("git_url", "git:" + apiUrl.getAuthority() + "/" + repository.fullName() + ".git");
    node.put("ssh_url", "git@" + apiUrl.getHost() + ":" + repository.fullName() + ".git");
    node.put("svn_url", html);
    node.putNull("homepage");
    node.putNull("language");
    node.putNull("mirror_url");
    node.putNull("license");
    node.putNull("pushed_at");
    node.putNull("created_at");
    node.putNull("updated_at");
    node.put("default_branch", "main");
    for (String count :
        List.of(
            "forks",
            "forks_count",
            "open_issues",
            "open_issues_count",
            "size",
            "stargazers_count",
            "watchers",
            "watchers_count")) {
      node.put(count, 0);
    }
    for (String flag : List.of("has_downloads", "has_issues", "has_projects", "has_wiki")) {
      node.put(flag, true);
    }
    for (String flag : List.of("has_pages", "archived", "disabled")) {
      node.put(flag, false);
    }
    return node;
  }

  /** The account that sends every simulated event. */
  static ObjectNode sender(URI apiUrl) {
    return account("octocat", "User", apiUrl);
  }

  /** The {@code organization} of an event: GitHub's {@code organization-simple-webhooks}. */
  static ObjectNode organization(String login, URI apiUrl) {
    String api = apiUrl + "/orgs/" + login;
    ObjectNode node = JSON.createObjectNode();
    node.put("login", login);
    node.put("id", accountId(login));
    node.put("node_id", "O_sim" + login);
    node.put("url", api);
    node.put("repos_url", api + "/repos");
    node.put("events_url", api + "/events");
    node.put("hooks_url", api + "/hooks");
    node.put("issues_url", api + "/issues");
    node.put("members_url", api + "/members{/member}");
    node.put("public_members_url", api + "/public_members{/member}");
    node.put("avatar_url", AVATAR);
    node.putNull("description");
    return node;
  }

  private static final String AVATAR = "https://avatars.githubusercontent.com/u/1?v=4";

  /** A user or organization as GitHub's {@code simple-user} shows it. */
  private static ObjectNode account(String login, String type, URI apiUrl) {
    String api = apiUrl + "/users/" + login;
    ObjectNode node = JSON.createObjectNode();
    node.put("login", login);
    node.put("id", accountId(login));
    node.put("node_id", "U_sim" + login);
    node.put("avatar_url", AVATAR);
    node.put("gravatar_id", "");
    node.put("url", api);
    node.put("html_url", apiUrl + "/" + login);
    node.put("followers_url", api + "/followers");
    node.put("following_url", api + "/following{/other_user}");
    node.put("gists_url", api + "/gists{/gist_id}");
    node.put("starred_url", api + "/starred{/owner}{/repo}");
    node.put("subscriptions_url", api + "/subscriptions");
    node.put("organizations_url", api + "/orgs");
    node.put("repos_url", api + "/repos");
    node.put("events_url", api + "/events{/privacy}");
    node.put("received_events_url", api + "/received_events");
    node.put("type", type);
    node.put("site_admin", false);
    return node;
  }

  /** A stable positive id per login. */
  private static long accountId(String login) {
    return Math.abs((long) login.toLowerCase(Locale.ROOT).hashCode()) + 1;
  }

  /** GitHub's timestamps: ISO 8601 in UTC to the second. */
  static String timestamp(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static void putNullable(ObjectNode node, String field, String value) {
    if (value == null) {
      node.putNull(field);
    } else {
      node.put(field, value);
    }
  }

  /** A stable stand-in commit for the run: the SHA-1 of its id, as 40 hex digits. */
  private static String headSha(SimStore.JobRecord job) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-1")
                  .digest(("run-" + job.runId).getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-1", e);
    }
  }
}
