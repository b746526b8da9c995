package dev.microrunner.image;

import java.nio.file.Path;
import java.util.List;

/**
 * A build context on disk and the builds to run from it, in order (the base image, when it is
 * built, before the main image).
 */
public record BuildPlan(Path contextDirectory, List<BuildStep> steps) {
  public BuildPlan {
    steps = List.copyOf(steps);
  }
}
