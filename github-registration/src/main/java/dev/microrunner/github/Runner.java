package dev.microrunner.github;

import java.util.List;
import java.util.Objects;

/**
 * A self-hosted runner as GitHub lists it. {@code status} is {@code online} or {@code offline};
 * {@code busy} is true while it runs a job.
 */
public record Runner(
    long id,
    String name,
    String os,
    String status,
    boolean busy,
    List<String> labels,
    boolean ephemeral) {
  public Runner {
    Objects.requireNonNull(name, "name");
    labels = List.copyOf(labels);
  }
}
