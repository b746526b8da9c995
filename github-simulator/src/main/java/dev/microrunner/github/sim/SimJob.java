package dev.microrunner.github.sim;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A workflow job waiting for a runner: a runner takes it when it has every one of its labels
 * (case-insensitive), as with {@code runs-on}.
 */
public record SimJob(String name, List<String> labels, Duration duration) {
  public SimJob {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("job name must not be empty");
    }
    labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
    Objects.requireNonNull(duration, "duration");
    if (duration.isNegative()) {
      throw new IllegalArgumentException("job duration must not be negative: " + duration);
    }
  }
}
