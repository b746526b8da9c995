package dev.microrunner.image;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What to build: the distribution, the builder, the agent jar to package, the actions/runner
 * release, the platforms and the image names.
 *
 * @param distro the base image's distribution
 * @param tool buildah or podman
 * @param agentJar the microrunner jar packaged as the agent (the running CLI's own jar)
 * @param runner the actions/runner release and its checksums
 * @param platforms OCI platforms ({@code linux/amd64}, {@code linux/arm64}); empty builds for this
 *     machine
 * @param tag the main image's name
 * @param baseImage the base image's name: built under that name when {@code buildBase}, used as it
 *     is otherwise
 * @param buildBase whether to build the base image first
 * @param fromImage overrides the distribution image the base starts from (a mirror, say)
 * @param jdkImage the JDK image the Java runtime is linked from, for the target platform
 * @param network the network mode of build steps ({@code host}, {@code none}); builder default when
 *     empty
 * @param runnerDownloadBase where release archives are downloaded from: {@code
 *     BASE/vVERSION/actions-runner-linux-ARCH-VERSION.tar.gz}
 * @param labels more labels for both images (e.g. {@code org.opencontainers.image.revision}); the
 *     {@code dev.microrunner.*} labels are set by the build and cannot be overridden
 */
public record ImageBuildRequest(
    Distro distro,
    BuildTool tool,
    Path agentJar,
    RunnerRelease runner,
    List<String> platforms,
    String tag,
    String baseImage,
    boolean buildBase,
    Optional<String> fromImage,
    String jdkImage,
    Optional<String> network,
    String runnerDownloadBase,
    Map<String, String> labels) {

  /** The JDK image whose jlink builds the runtime; multi-arch and ships jmods. */
  public static final String DEFAULT_JDK_IMAGE = "docker.io/library/eclipse-temurin:21-jdk";

  /** Where GitHub publishes actions/runner release archives. */
  public static final String GITHUB_DOWNLOAD_BASE =
      "https://github.com/actions/runner/releases/download";

  // A conservative reading of the OCI reference grammar: registry/path:tag, no whitespace.
  private static final Pattern IMAGE_NAME =
      Pattern.compile(
          "[a-z0-9]+(?:[._:-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?");
  private static final Pattern NETWORK = Pattern.compile("[a-z0-9_-]+");
  private static final Set<String> RESERVED_LABELS =
      Set.of("dev.microrunner.image", "dev.microrunner.distro", "dev.microrunner.runner-version");
  private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  public ImageBuildRequest {
    Objects.requireNonNull(distro, "distro");
    Objects.requireNonNull(tool, "tool");
    Objects.requireNonNull(agentJar, "agentJar");
    Objects.requireNonNull(runner, "runner");
    platforms = List.copyOf(platforms);
    platforms.forEach(Architecture::ofPlatform);
    requireImageName(tag, "tag");
    requireImageName(baseImage, "base image");
    Objects.requireNonNull(fromImage, "fromImage");
    fromImage.ifPresent(name -> requireImageName(name, "distribution image"));
    requireImageName(jdkImage, "JDK image");
    Objects.requireNonNull(network, "network");
    network.ifPresent(
        mode -> {
          if (!NETWORK.matcher(mode).matches()) {
            throw new IllegalArgumentException("build network '" + mode + "' is not a mode name");
          }
        });
    Objects.requireNonNull(runnerDownloadBase, "runnerDownloadBase");
    if (!runnerDownloadBase.matches("https?://\\S+")) {
      throw new IllegalArgumentException(
          "runner download base '" + runnerDownloadBase + "' is not an http(s) URL");
    }
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
    labels.forEach(
        (key, value) -> {
          if (!LABEL_KEY.matcher(key).matches() || RESERVED_LABELS.contains(key)) {
            throw new IllegalArgumentException(
                "label key '"
                    + key
                    + "' is not allowed: letters, digits, '.', '-', '_' only, and not one of "
                    + RESERVED_LABELS
                    + ", which the build sets");
          }
          Objects.requireNonNull(value, key);
        });
  }

  /** The architectures this build produces images for. */
  public List<Architecture> architectures() {
    if (platforms.isEmpty()) {
      return List.of(Architecture.host());
    }
    return platforms.stream().map(Architecture::ofPlatform).distinct().toList();
  }

  public static Builder builder(Path agentJar) {
    return new Builder(agentJar);
  }

  /**
   * The base image name that goes with a main image name: {@code -base} appended to the repository,
   * same tag ({@code ghcr.io/o/microrunner-ubuntu:main} → {@code
   * ghcr.io/o/microrunner-ubuntu-base:main}).
   */
  public static String baseImageFor(String tag) {
    int slash = tag.lastIndexOf('/');
    int colon = tag.indexOf(':', slash + 1);
    if (colon < 0) {
      return tag + "-base";
    }
    return tag.substring(0, colon) + "-base" + tag.substring(colon);
  }

  private static void requireImageName(String name, String what) {
    Objects.requireNonNull(name, what);
    if (!IMAGE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " '" + name + "' is not a valid image name");
    }
  }

  /** Defaults: Ubuntu, podman, the pinned release, this machine's platform, local names. */
  public static final class Builder {
    private final Path agentJar;
    private Distro distro = Distro.UBUNTU;
    private BuildTool tool = BuildTool.PODMAN;
    private RunnerRelease runner;
    private final List<String> platforms = new ArrayList<>();
    private String tag;
    private String baseImage;
    private boolean buildBase = true;
    private String fromImage;
    private String jdkImage = DEFAULT_JDK_IMAGE;
    private String network;
    private String runnerDownloadBase = GITHUB_DOWNLOAD_BASE;
    private final Map<String, String> labels = new TreeMap<>();

    private Builder(Path agentJar) {
      this.agentJar = Objects.requireNonNull(agentJar, "agentJar");
    }

    public Builder distro(Distro distro) {
      this.distro = distro;
      return this;
    }

    public Builder tool(BuildTool tool) {
      this.tool = tool;
      return this;
    }

    public Builder runner(RunnerRelease runner) {
      this.runner = runner;
      return this;
    }

    public Builder platforms(List<String> platforms) {
      this.platforms.clear();
      this.platforms.addAll(platforms);
      return this;
    }

    /** The main image's name; default {@code localhost/microrunner/runner-DISTRO:VERSION}. */
    public Builder tag(String tag) {
      this.tag = tag;
      return this;
    }

    /** Builds the base image under this name instead of the one derived from the tag. */
    public Builder baseImage(String baseImage) {
      this.baseImage = baseImage;
      this.buildBase = true;
      return this;
    }

    /** Builds only the main image, on an existing base image. */
    public Builder existingBaseImage(String baseImage) {
      this.baseImage = baseImage;
      this.buildBase = false;
      return this;
    }

    public Builder fromImage(String fromImage) {
      this.fromImage = fromImage;
      return this;
    }

    public Builder jdkImage(String jdkImage) {
      this.jdkImage = jdkImage;
      return this;
    }

    public Builder network(String network) {
      this.network = network;
      return this;
    }

    public Builder runnerDownloadBase(String runnerDownloadBase) {
      this.runnerDownloadBase = runnerDownloadBase;
      return this;
    }

    /** Adds a label to both images. */
    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public ImageBuildRequest build() {
      RunnerRelease release = runner != null ? runner : RunnerRelease.pinned();
      String mainTag =
          tag != null
              ? tag
              : "localhost/microrunner/runner-" + distro.id() + ":" + release.version();
      return new ImageBuildRequest(
          distro,
          tool,
          agentJar,
          release,
          platforms,
          mainTag,
          baseImage != null ? baseImage : baseImageFor(mainTag),
          buildBase,
          Optional.ofNullable(fromImage),
          jdkImage,
          Optional.ofNullable(network),
          runnerDownloadBase,
          labels);
    }
  }
}
