package dev.microrunner.image;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The distribution a base image is built from. */
public enum Distro {
  UBUNTU,
  FEDORA;

  /** The lower-case name used on the command line, in tags and in container file names. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The {@code ImageOS} value of the runner image, as GitHub-hosted runners and upstream's runner
   * image set it ({@code ubuntu24}): the distribution and major version of the default {@code FROM}
   * image. The setup-* actions read it to pick their tool cache.
   */
  public String imageOs() {
    return switch (this) {
      case UBUNTU -> "ubuntu24";
      case FEDORA -> "fedora42";
    };
  }

  /** The container file in the build context that builds this distribution's base image. */
  public String baseContainerfile() {
    return "Containerfile.base-" + id();
  }

  /** Parses {@code ubuntu} or {@code fedora}, ignoring case. */
  public static Distro parse(String text) {
    for (Distro distro : values()) {
      if (distro.id().equalsIgnoreCase(text.strip())) {
        return distro;
      }
    }
    throw new IllegalArgumentException(
        "unknown distribution '"
            + text
            + "': expected one of "
            + Arrays.stream(values()).map(Distro::id).collect(Collectors.joining(", ")));
  }
}
