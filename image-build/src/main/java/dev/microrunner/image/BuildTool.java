package dev.microrunner.image;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The program that builds and lists images. */
public enum BuildTool {
  /** {@code buildah bud}; buildah does not cache layers unless asked, so builds pass --layers. */
  BUILDAH("buildah"),
  /** {@code podman build}. */
  PODMAN("podman");

  private final String executable;

  BuildTool(String executable) {
    this.executable = executable;
  }

  /** The program name, looked up on PATH. */
  public String executable() {
    return executable;
  }

  /** The words after the program that start a build from a container file. */
  public List<String> buildVerb() {
    return switch (this) {
      case BUILDAH -> List.of("bud", "--layers");
      case PODMAN -> List.of("build");
    };
  }

  /** Parses {@code buildah} or {@code podman}, ignoring case. */
  public static BuildTool parse(String text) {
    for (BuildTool tool : values()) {
      if (tool.executable.equalsIgnoreCase(text.strip())) {
        return tool;
      }
    }
    throw new IllegalArgumentException(
        "unknown image builder '"
            + text
            + "': expected one of "
            + Arrays.stream(values()).map(BuildTool::executable).collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return executable;
  }
}
