package dev.microrunner.github.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.Runner;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** Reading GitHub's JSON shapes. */
public final class Json {

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
}
