package dev.microrunner.github.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.PublishedRunnerRelease;
import dev.microrunner.github.Runner;
import dev.microrunner.github.RunnerDownload;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WorkflowJob;
import dev.microrunner.github.WorkflowRun;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading GitHub's JSON shapes. */
public final class Json {

  /** A release tag that names a version: {@code v2.336.0} (the {@code v} optional). */
  private static final Pattern VERSION_TAG = Pattern.compile("v?(\\d+(?:\\.\\d+)*)");

  private Json() {}

  public static Instant instant(JsonNode node, String field) throws GitHubException {
    String text = node.path(field).asText("");
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new GitHubException(
          "GitHub's response has no valid '" + field + "' timestamp: '" + text + "'", 0, false);
    }
  }

  /** An entry of {@code GET SCOPE/actions/runners/downloads}. */
  public static RunnerDownload runnerDownload(JsonNode node) throws GitHubException {
    String os = requiredText(node, "os");
    String architecture = requiredText(node, "architecture");
    String downloadUrl = requiredText(node, "download_url");
    String filename = requiredText(node, "filename");
    URI uri;
    try {
      uri = new URI(downloadUrl);
    } catch (URISyntaxException e) {
      throw new GitHubException(
          "GitHub's runner downloads response has an invalid download_url for " + filename,
          0,
          false);
    }
    return new RunnerDownload(
        os,
        architecture,
        uri,
        filename,
        optionalText(node, "temp_download_token").map(Secret::of),
        optionalText(node, "sha256_checksum"));
  }

  /**
   * A release of {@code GET /repos/actions/runner/releases}; empty for a draft (not published) or a
   * tag that is not a version ({@code v2.336.0}).
   */
  public static Optional<PublishedRunnerRelease> publishedRunnerRelease(JsonNode node)
      throws GitHubException {
    Matcher tag = VERSION_TAG.matcher(node.path("tag_name").asText(""));
    if (!tag.matches()
        || node.path("draft").asBoolean(false)
        || !node.path("published_at").isTextual()) {
      return Optional.empty();
    }
    return Optional.of(
        new PublishedRunnerRelease(
            tag.group(1), instant(node, "published_at"), node.path("prerelease").asBoolean(false)));
  }

  private static String requiredText(JsonNode node, String field) throws GitHubException {
    return optionalText(node, field)
        .orElseThrow(
            () ->
                new GitHubException(
                    "GitHub's runner downloads response has an entry without " + field, 0, false));
  }

  private static Optional<String> optionalText(JsonNode node, String field) {
    JsonNode value = node.path(field);
    return value.isTextual() && !value.asText().isEmpty()
        ? Optional.of(value.asText())
        : Optional.empty();
  }

  public static Runner runner(JsonNode node) throws GitHubException {
    if (!node.path("id").canConvertToLong() || !node.path("name").isTextual()) {
      throw new GitHubException("GitHub's response holds a runner without id or name", 0, false);
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode label : node.path("labels")) {
      labels.add(label.isTextual() ? label.asText() : label.path("name").asText());
    }
    return new Runner(
        node.path("id").asLong(),
        node.path("name").asText(),
        node.path("os").asText(""),
        node.path("status").asText(""),
        node.path("busy").asBoolean(false),
        labels,
        node.path("ephemeral").asBoolean(false));
  }

  /** An entry of {@code GET /repos/{owner}/{repo}/actions/runs}. */
  public static WorkflowRun workflowRun(JsonNode node) throws GitHubException {
    if (!node.path("id").canConvertToLong() || !node.path("status").isTextual()) {
      throw new GitHubException(
          "GitHub's response holds a workflow run without id or status", 0, false);
    }
    return new WorkflowRun(
        node.path("id").asLong(),
        node.path("name").asText(""),
        node.path("status").asText(),
        optionalText(node, "conclusion"));
  }

  /** An entry of {@code GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs}. */
  public static WorkflowJob workflowJob(JsonNode node) throws GitHubException {
    if (!node.path("id").canConvertToLong()
        || !node.path("run_id").canConvertToLong()
        || !node.path("status").isTextual()) {
      throw new GitHubException(
          "GitHub's response holds a workflow job without id, run_id or status", 0, false);
    }
    List<String> labels = new ArrayList<>();
    for (JsonNode label : node.path("labels")) {
      if (label.isTextual()) {
        labels.add(label.asText());
      }
    }
    JsonNode runnerId = node.path("runner_id");
    return new WorkflowJob(
        node.path("id").asLong(),
        node.path("run_id").asLong(),
        node.path("name").asText(""),
        node.path("status").asText(),
        labels,
        runnerId.canConvertToLong() && !runnerId.isNull()
            ? Optional.of(runnerId.asLong())
            : Optional.empty(),
        optionalText(node, "runner_name"));
  }
}
