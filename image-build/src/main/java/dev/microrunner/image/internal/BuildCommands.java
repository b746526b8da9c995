package dev.microrunner.image.internal;

import dev.microrunner.image.BuildStep;
import dev.microrunner.image.BuildTool;
import dev.microrunner.image.ImageBuildRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The argv of the base and main image builds, and of listing and removing our images. */
public final class BuildCommands {
  /** Present on every image this project builds; {@code clean} selects by it and nothing else. */
  public static final String IMAGE_LABEL = "dev.microrunner.image";

  private BuildCommands() {}

  /** The base build (when requested) then the main build. */
  public static List<BuildStep> steps(
      ImageBuildRequest request, Path context, String sha256X64, String sha256Arm64) {
    List<BuildStep> steps = new ArrayList<>();
    if (request.buildBase()) {
      List<String> argv = start(request, context, request.distro().baseContainerfile());
      argv.addAll(target(request, request.baseImage()));
      label(argv, IMAGE_LABEL, "base");
      label(argv, "dev.microrunner.distro", request.distro().id());
      request.labels().forEach((key, value) -> label(argv, key, value));
      request.fromImage().ifPresent(image -> buildArg(argv, "FROM_IMAGE", image));
      argv.add(context.toString());
      steps.add(new BuildStep(request.baseImage(), argv));
    }
    List<String> argv = start(request, context, "Containerfile.main");
    argv.addAll(target(request, request.tag()));
    label(argv, IMAGE_LABEL, "main");
    label(argv, "dev.microrunner.distro", request.distro().id());
    label(argv, "dev.microrunner.runner-version", request.runner().version());
    request.labels().forEach((key, value) -> label(argv, key, value));
    buildArg(argv, "BASE_IMAGE", request.baseImage());
    buildArg(argv, "JDK_IMAGE", request.jdkImage());
    buildArg(argv, "RUNNER_VERSION", request.runner().version());
    buildArg(argv, "RUNNER_SHA256_X64", sha256X64);
    buildArg(argv, "RUNNER_SHA256_ARM64", sha256Arm64);
    buildArg(argv, "RUNNER_DOWNLOAD_BASE", request.runnerDownloadBase());
    buildArg(argv, "IMAGE_OS", request.distro().imageOs());
    argv.add(context.toString());
    steps.add(new BuildStep(request.tag(), argv));
    return steps;
  }

  /** Lists our images, one {@code ID REPOSITORY:TAG} line each. */
  public static List<String> listImages(BuildTool tool) {
    return List.of(
        tool.executable(), "images", "--filter", "label=" + IMAGE_LABEL, "--format", format(tool));
  }

  /**
   * The listing template. podman calls the repository {@code .Repository}, buildah {@code .Name};
   * buildah fails on a field it does not know as soon as one image matches.
   */
  static String format(BuildTool tool) {
    String repository = tool == BuildTool.BUILDAH ? "{{.Name}}" : "{{.Repository}}";
    return "{{.ID}} " + repository + ":{{.Tag}}";
  }

  /** Removes the given images; never forced, so an image a container still uses stays. */
  public static List<String> removeImages(BuildTool tool, List<String> references) {
    List<String> argv = new ArrayList<>(List.of(tool.executable(), "rmi"));
    argv.addAll(references);
    return argv;
  }

  private static List<String> start(ImageBuildRequest request, Path context, String file) {
    List<String> argv = new ArrayList<>();
    argv.add(request.tool().executable());
    argv.addAll(request.tool().buildVerb());
    argv.add("--file");
    argv.add(context.resolve(file).toString());
    if (!request.platforms().isEmpty()) {
      argv.add("--platform");
      argv.add(String.join(",", request.platforms()));
    }
    request
        .network()
        .ifPresent(
            mode -> {
              argv.add("--network");
              argv.add(mode);
            });
    return argv;
  }

  // Several platforms make a manifest list, which needs --manifest instead of --tag.
  private static List<String> target(ImageBuildRequest request, String image) {
    return List.of(request.platforms().size() > 1 ? "--manifest" : "--tag", image);
  }

  private static void label(List<String> argv, String key, String value) {
    argv.add("--label");
    argv.add(key + "=" + value);
  }

  private static void buildArg(List<String> argv, String key, String value) {
    argv.add("--build-arg");
    argv.add(key + "=" + value);
  }
}
