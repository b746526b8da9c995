package dev.microrunner.github;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What to ask for in {@code generate-jitconfig}: GitHub takes 1 to 100 labels. */
public record JitRequest(
    String name, long runnerGroupId, List<String> labels, Optional<String> workFolder) {

  public JitRequest {
    if (name == null || name.isBlank() || name.length() > 64) {
      throw new IllegalArgumentException(
          "runner name '" + name + "' must be 1 to 64 characters long");
    }
    if (runnerGroupId < 1) {
      throw new IllegalArgumentException("runner group id " + runnerGroupId + " must be >= 1");
    }
    Objects.requireNonNull(labels, "labels");
    if (labels.isEmpty() || labels.size() > 100) {
      throw new IllegalArgumentException(
          "runner labels: GitHub takes 1 to 100 labels, got " + labels.size());
    }
    for (String label : labels) {
      if (label == null || label.isBlank()) {
        throw new IllegalArgumentException("runner labels must not be empty: " + labels);
      }
    }
    labels = List.copyOf(labels);
    Objects.requireNonNull(workFolder, "workFolder");
  }

  public JitRequest(String name, long runnerGroupId, List<String> labels) {
    this(name, runnerGroupId, labels, Optional.empty());
  }
}
