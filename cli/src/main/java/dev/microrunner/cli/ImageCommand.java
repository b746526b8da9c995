package dev.microrunner.cli;

import dev.microrunner.image.Architecture;
import dev.microrunner.image.BuildPlan;
import dev.microrunner.image.BuildStep;
import dev.microrunner.image.BuildTool;
import dev.microrunner.image.Distro;
import dev.microrunner.image.ImageBuild;
import dev.microrunner.image.ImageBuildException;
import dev.microrunner.image.ImageBuildRequest;
import dev.microrunner.image.RunnerRelease;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.commons.io.file.PathUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code microrunner image build|clean}: parses options and delegates to {@link ImageBuild}.
 *
 * <p>The agent packaged into the image is this running microrunner's own jar (the jar this class
 * was loaded from), unless {@code --agent-jar} names another.
 */
@Command(
    name = "image",
    description = "Build microrunner's runner images, or remove the ones it built.",
    mixinStandardHelpOptions = true,
    subcommands = {ImageCommand.Build.class, ImageCommand.Clean.class})
public final class ImageCommand implements Callable<Integer> {
  private final ImageBuild imageBuild;

  @Spec CommandSpec spec;

  /** Runs buildah/podman as child processes. */
  public ImageCommand() {
    this(ImageBuild.create());
  }

  /** Runs every command through {@code imageBuild} (tests give it a recording runner). */
  public ImageCommand(ImageBuild imageBuild) {
    this.imageBuild = imageBuild;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "name a subcommand: build or clean");
  }

  @Command(
      name = "build",
      description = {
        "Build the base image, then the main image on top of it: actions/runner (pinned version,"
            + " SHA-256 verified) and this microrunner as the agent.",
        "Without --tag the images are localhost/microrunner/runner-DISTRO[-base]:RUNNER_VERSION."
      },
      mixinStandardHelpOptions = true,
      sortOptions = false)
  static final class Build implements Callable<Integer> {
    @ParentCommand ImageCommand parent;
    @Spec CommandSpec spec;

    @Option(
        names = "--distro",
        paramLabel = "ubuntu|fedora",
        converter = DistroConverter.class,
        description = "Base image distribution (default: ${DEFAULT-VALUE}).",
        defaultValue = "ubuntu")
    Distro distro;

    @Option(
        names = "--runner-version",
        paramLabel = "VERSION",
        description =
            "actions/runner release (default: the pinned one). Another version needs its"
                + " checksums (--runner-sha256-x64/-arm64).")
    String runnerVersion;

    @Option(
        names = "--runner-sha256-x64",
        paramLabel = "SHA256",
        description = "Published SHA-256 of actions-runner-linux-x64-VERSION.tar.gz.")
    String sha256X64;

    @Option(
        names = "--runner-sha256-arm64",
        paramLabel = "SHA256",
        description = "Published SHA-256 of actions-runner-linux-arm64-VERSION.tar.gz.")
    String sha256Arm64;

    @Option(
        names = "--runner-download-base",
        paramLabel = "URL",
        description =
            "Where actions/runner release archives are downloaded from, laid out as GitHub's"
                + " releases: URL/vVERSION/actions-runner-linux-ARCH-VERSION.tar.gz; a mirror"
                + " for hosts without github.com (default: ${DEFAULT-VALUE}).",
        defaultValue = ImageBuildRequest.GITHUB_DOWNLOAD_BASE)
    String runnerDownloadBase;

    @Option(
        names = "--platform",
        paramLabel = "PLATFORM",
        split = ",",
        description =
            "linux/amd64 and/or linux/arm64 (default: this machine's). Several make a manifest"
                + " list.")
    List<String> platforms = new ArrayList<>();

    @Option(names = "--tag", paramLabel = "IMAGE", description = "Name of the main image.")
    String tag;

    @Option(
        names = "--base-image",
        paramLabel = "IMAGE",
        description = "Build the main image on this existing base image; skip the base build.")
    String baseImage;

    @Option(
        names = "--builder",
        paramLabel = "buildah|podman",
        converter = BuildToolConverter.class,
        description = "Program that builds the images (default: ${DEFAULT-VALUE}).",
        defaultValue = "podman")
    BuildTool tool;

    @Option(
        names = "--from-image",
        paramLabel = "IMAGE",
        description = "Distribution image the base starts from (default: the container file's).")
    String fromImage;

    @Option(
        names = "--jdk-image",
        paramLabel = "IMAGE",
        description =
            "JDK image the agent's Java runtime is linked from (default: ${DEFAULT-VALUE}).",
        defaultValue = ImageBuildRequest.DEFAULT_JDK_IMAGE)
    String jdkImage;

    @Option(
        names = "--network",
        paramLabel = "MODE",
        description = "Network mode of the build steps (host, none, ...).")
    String network;

    @Option(
        names = "--label",
        paramLabel = "KEY=VALUE",
        description = "Extra label on both images (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(
        names = "--agent-jar",
        paramLabel = "JAR",
        description = "Agent jar to package (default: this microrunner's own jar).")
    Path agentJar;

    @Option(
        names = "--context",
        paramLabel = "DIR",
        description = "Write the build context here (new or empty) and keep it.")
    Path context;

    @Option(
        names = "--dry-run",
        description = "Write the build context and print the build commands; run nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws IOException, InterruptedException {
      ImageBuildRequest request = request();
      boolean temporary = context == null;
      Path directory = temporary ? Files.createTempDirectory("microrunner-image-") : context;
      PrintWriter out = spec.commandLine().getOut();
      try {
        BuildPlan plan = parent.imageBuild.prepare(request, directory);
        if (dryRun) {
          out.println("# build context: " + plan.contextDirectory());
          for (BuildStep step : plan.steps()) {
            out.println(step.commandLine());
          }
          temporary = false;
          return 0;
        }
        for (String image : parent.imageBuild.build(plan)) {
          out.println(image);
        }
        return 0;
      } finally {
        out.flush();
        if (temporary) {
          PathUtils.deleteDirectory(directory);
        }
      }
    }

    private ImageBuildRequest request() throws IOException {
      try {
        RunnerRelease pinned = RunnerRelease.pinned();
        RunnerRelease release;
        if (runnerVersion == null || runnerVersion.equals(pinned.version())) {
          release =
              RunnerRelease.of(
                  pinned.version(),
                  sha256X64 != null ? sha256X64 : pinned.sha256X64().orElse(null),
                  sha256Arm64 != null ? sha256Arm64 : pinned.sha256Arm64().orElse(null));
        } else {
          release = RunnerRelease.of(runnerVersion, sha256X64, sha256Arm64);
        }
        Path jar = agentJar != null ? agentJar : ImageBuild.jarOf(ImageCommand.class);
        ImageBuildRequest.Builder builder =
            ImageBuildRequest.builder(jar)
                .distro(distro)
                .tool(tool)
                .runner(release)
                .runnerDownloadBase(runnerDownloadBase)
                .platforms(platforms)
                .jdkImage(jdkImage)
                .network(network)
                .fromImage(fromImage)
                .tag(tag);
        if (baseImage != null) {
          builder.existingBaseImage(baseImage);
        }
        labels.forEach(builder::label);
        ImageBuildRequest request = builder.build();
        // Fail here, as a usage error, rather than after writing the context.
        for (Architecture architecture : request.architectures()) {
          try {
            release.sha256(architecture);
          } catch (ImageBuildException e) {
            throw new ParameterException(
                spec.commandLine(),
                e.getMessage() + " (--runner-sha256-" + architecture.runnerArch() + ")",
                e);
          }
        }
        return request;
      } catch (IllegalArgumentException | ImageBuildException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
    }
  }

  @Command(
      name = "clean",
      description =
          "Remove the images labelled dev.microrunner.image (the ones this project built, and"
              + " images built FROM them, which inherit the label); nothing else.",
      mixinStandardHelpOptions = true)
  static final class Clean implements Callable<Integer> {
    @ParentCommand ImageCommand parent;
    @Spec CommandSpec spec;

    @Option(
        names = "--builder",
        paramLabel = "buildah|podman",
        converter = BuildToolConverter.class,
        description = "Program whose image store is cleaned (default: ${DEFAULT-VALUE}).",
        defaultValue = "podman")
    BuildTool tool;

    @Override
    public Integer call() throws IOException, InterruptedException {
      PrintWriter out = spec.commandLine().getOut();
      for (String removed : parent.imageBuild.clean(tool)) {
        out.println("removed " + removed);
      }
      out.flush();
      return 0;
    }
  }

  static final class DistroConverter implements ITypeConverter<Distro> {
    @Override
    public Distro convert(String value) {
      return Distro.parse(value);
    }
  }

  static final class BuildToolConverter implements ITypeConverter<BuildTool> {
    @Override
    public BuildTool convert(String value) {
      return BuildTool.parse(value);
    }
  }
}
