package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.image.Architecture;
import dev.microrunner.image.LocalPodmanBases;
import dev.microrunner.vm.CommandRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code microrunner image build} run as the built jar, so the agent it packages is that jar itself
 * (the default agent jar), does a real podman build of the main image on the locally made bases of
 * {@link LocalPodmanBases}; {@code podman run IMAGE --help} then goes through the image's
 * entrypoint (init, launcher, jlinked runtime) to the real agent, which prints its help.
 */
class PodmanImageBuildIT {
  // Generous: the build links a Java runtime and copies layers, on a loaded 2-core machine.
  private static final long BUILD_TIMEOUT_MINUTES = 15;

  @TempDir Path work;
  private LocalPodmanBases bases;

  @BeforeEach
  void makeBases() throws Exception {
    assumeTrue(
        LocalPodmanBases.podmanInstalled(),
        "podman is not installed: the real image build with the agent is skipped");
    bases = LocalPodmanBases.create(Files.createDirectory(work.resolve("bases")));
  }

  @AfterEach
  void removeImages() throws Exception {
    if (bases != null) {
      bases.removeImages();
    }
  }

  @Test
  void theBuiltImagesEntrypointRunsTheRealAgent() throws Exception {
    String image = bases.image("runner");
    String sha256Option =
        Architecture.host() == Architecture.X64 ? "--runner-sha256-x64" : "--runner-sha256-arm64";
    Path tmp = Files.createDirectory(work.resolve("tmp"));
    Process build =
        BuiltJar.start(
            tmp,
            work,
            bases.podmanEnvironment(),
            "image",
            "build",
            "--builder",
            "podman",
            "--base-image",
            bases.baseImage(),
            "--jdk-image",
            bases.jdkImage(),
            "--network",
            "host",
            "--runner-version",
            LocalPodmanBases.RUNNER_VERSION,
            sha256Option,
            bases.archiveSha256(),
            "--runner-download-base",
            bases.runnerDownloadBase(),
            "--tag",
            image,
            "--label",
            bases.label());
    if (!build.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      build.destroyForcibly().waitFor();
      throw new AssertionError(
          "image build did not end in " + BUILD_TIMEOUT_MINUTES + " min: " + stderr());
    }
    assertEquals(0, build.exitValue(), this::stderr);
    assertEquals(List.of(image), Files.readAllLines(work.resolve("stdout")), this::stderr);

    Result help = bases.run("podman", "run", "--rm", "--network", "none", image, "--help");

    List<String> lines = help.stdout();
    assertTrue(
        !lines.isEmpty() && lines.get(0).startsWith("Usage: microrunner agent "), lines::toString);
    assertTrue(
        lines.stream().anyMatch(line -> line.trim().startsWith("-E, --env-file=FILE")),
        lines::toString);
    assertTrue(
        lines.stream().anyMatch(line -> line.contains("--docker-service=auto|on|off")),
        lines::toString);
  }

  private String stderr() {
    try {
      return Files.readString(work.resolve("stderr"));
    } catch (IOException e) {
      return "(no stderr: " + e + ")";
    }
  }
}
