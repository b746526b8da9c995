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
import java.util.Locale;

/**
 * The JSON of a simulated job and its workflow run for the workflow run endpoints: GitHub's {@code
 * job} and {@code workflow-run} schemas (REST API 2022-11-28). Read under the store's monitor: a
 * job changes under it.
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
  static ObjectNode run(SimStore.JobRecord job, URI apiUrl) {
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
    node.set("repository", repository(job.repository, apiUrl));
    return node;
  }

  /** A repository as webhooks and workflow runs show it (the fields that identify it). */
  static ObjectNode repository(RestApiState.Repository repository, URI apiUrl) {
    ObjectNode node = JSON.createObjectNode();
    node.put("id", repository.id());
    node.put("node_id", "R_sim" + repository.id());
    node.put("name", repository.name());
    node.put("full_name", repository.fullName());
    node.put("private", true);
    node.set("owner", account(repository.owner(), apiUrl));
    node.put("html_url", apiUrl + "/" + repository.fullName());
    node.put("description", (String) null);
    node.put("fork", false);
    node.put("url", apiUrl + "/repos/" + repository.fullName());
    node.put("default_branch", "main");
    return node;
  }

  private static ObjectNode account(String login, URI apiUrl) {
    ObjectNode node = JSON.createObjectNode();
    node.put("login", login);
    node.put("id", Math.abs((long) login.hashCode()) + 1);
    node.put("node_id", "U_sim" + login);
    node.put("avatar_url", "https://avatars.githubusercontent.com/u/1?v=4");
    node.put("gravatar_id", "");
    node.put("url", apiUrl + "/users/" + login);
    node.put("html_url", apiUrl + "/" + login);
    node.put("type", "User");
    node.put("site_admin", false);
    return node;
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
