package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.RuntimeCommandException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The exact commands ImageBuild runs, through the command-runner seam. */
class ImageBuildTest {
  static final String X64 = "a".repeat(64);
  static final String ARM64 = "b".repeat(64);

  @TempDir Path directory;

  /** Records every command and answers from a queue (exit 0, no output, when it is empty). */
  static final class RecordingRunner implements CommandRunner {
    final List<List<String>> commands = new ArrayList<>();
    final List<Map<String, String>> environments = new ArrayList<>();
    final Deque<Result> answers = new ArrayDeque<>();

    @Override
    public Result run(Command command) {
      commands.add(command.argv());
      environments.add(command.environment());
      return answers.isEmpty() ? new Result(0, List.of(), List.of()) : answers.removeFirst();
    }

    @Override
    public Running start(Command command) {
      throw new UnsupportedOperationException("image builds run their commands to completion");
    }
  }

  final RecordingRunner runner = new RecordingRunner();

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "PODMAN, UBUNTU, podman build",
    "PODMAN, FEDORA, podman build",
    "BUILDAH, UBUNTU, buildah bud --layers",
    "BUILDAH, FEDORA, buildah bud --layers"
  })
  void plansTheBaseThenTheMainBuild(BuildTool tool, Distro distro, String verb) throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .tool(tool)
            .distro(distro)
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/arm64"))
            .tag("ghcr.io/acme/microrunner-" + distro.id() + ":main")
            .build();
    Path context = directory.resolve("ctx");

    BuildPlan plan = ImageBuild.using(runner, Map.of()).prepare(request, context);

    String id = distro.id();
    List<String> start = List.of(verb.split(" "));
    List<String> base = new ArrayList<>(start);
    base.addAll(
        List.of(
            "--file",
            context.resolve("Containerfile.base-" + id).toString(),
            "--platform",
            "linux/arm64",
            "--tag",
            "ghcr.io/acme/microrunner-" + id + "-base:main",
            "--label",
            "dev.microrunner.image=base",
            "--label",
            "dev.microrunner.distro=" + id,
            context.toString()));
    List<String> main = new ArrayList<>(start);
    main.addAll(
        List.of(
            "--file",
            context.resolve("Containerfile.main").toString(),
            "--platform",
            "linux/arm64",
            "--tag",
            "ghcr.io/acme/microrunner-" + id + ":main",
            "--label",
            "dev.microrunner.image=main",
            "--label",
            "dev.microrunner.distro=" + id,
            "--label",
            "dev.microrunner.runner-version=2.400.1",
            "--build-arg",
            "BASE_IMAGE=ghcr.io/acme/microrunner-" + id + "-base:main",
            "--build-arg",
            "JDK_IMAGE=docker.io/library/eclipse-temurin:21-jdk",
            "--build-arg",
            "RUNNER_VERSION=2.400.1",
            "--build-arg",
            "RUNNER_SHA256_X64=" + X64,
            "--build-arg",
            "RUNNER_SHA256_ARM64=" + ARM64,
            "--build-arg",
            "RUNNER_DOWNLOAD_BASE=https://github.com/actions/runner/releases/download",
            "--build-arg",
            "IMAGE_OS=" + distro.imageOs(),
            context.toString()));
    assertEquals(List.of(base, main), plan.steps().stream().map(BuildStep::argv).toList());
    assertTrue(Files.isRegularFile(context.resolve("Containerfile.main")));
    assertEquals(List.of(), runner.commands, "prepare runs nothing");
  }

  @Test
  void buildRunsEveryStepInOrderWithTheEnvironment() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64"))
            .build();
    ImageBuild build = ImageBuild.using(runner, Map.of("CONTAINERS_CONF", "/etc/x.conf"));
    BuildPlan plan = build.prepare(request, directory.resolve("ctx"));

    List<String> built = build.build(plan);

    assertEquals(
        List.of(
            "localhost/microrunner/runner-ubuntu-base:2.400.1",
            "localhost/microrunner/runner-ubuntu:2.400.1"),
        built);
    assertEquals(plan.steps().stream().map(BuildStep::argv).toList(), runner.commands);
    assertEquals(
        ChildEnvironment.of(Map.of("CONTAINERS_CONF", "/etc/x.conf")),
        runner.environments.get(1),
        "the allow-listed environment and the addition, nothing else");
  }

  @Test
  void anExistingBaseSkipsTheBaseBuild() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64"))
            .existingBaseImage("localhost/my-base:1")
            .network("host")
            .fromImage("mirror.example/ubuntu:24.04")
            .build();
    BuildPlan plan = ImageBuild.using(runner, Map.of()).prepare(request, directory.resolve("c"));

    assertEquals(1, plan.steps().size());
    List<String> argv = plan.steps().get(0).argv();
    assertTrue(argv.contains("BASE_IMAGE=localhost/my-base:1"), argv.toString());
    assertEquals("host", argv.get(argv.indexOf("--network") + 1));
  }

  @Test
  void extraLabelsGoOnBothImagesButCannotReplaceOurs() throws Exception {
    Path jar = TestFiles.emptyJar(directory);
    ImageBuildRequest request =
        ImageBuildRequest.builder(jar)
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64"))
            .label("org.opencontainers.image.revision", "abc123")
            .build();
    BuildPlan plan = ImageBuild.using(runner, Map.of()).prepare(request, directory.resolve("c"));
    for (BuildStep step : plan.steps()) {
      assertTrue(
          step.argv().contains("org.opencontainers.image.revision=abc123"), step.commandLine());
    }
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImageBuildRequest.builder(jar).label("dev.microrunner.image", "x").build());
    assertTrue(error.getMessage().contains("'dev.microrunner.image'"), error.getMessage());
  }

  @Test
  void severalPlatformsBuildAManifestList() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64", "linux/arm64"))
            .tag("localhost/r:1")
            .build();
    BuildPlan plan = ImageBuild.using(runner, Map.of()).prepare(request, directory.resolve("c"));

    for (BuildStep step : plan.steps()) {
      assertFalse(step.argv().contains("--tag"), step.commandLine());
      assertEquals(step.image(), step.argv().get(step.argv().indexOf("--manifest") + 1));
      assertEquals(
          "linux/amd64,linux/arm64", step.argv().get(step.argv().indexOf("--platform") + 1));
    }
  }

  @Test
  void refusesToBuildWithoutTheChecksumOfATargetArchitecture() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, RunnerRelease.PLACEHOLDER))
            .platforms(List.of("linux/amd64", "linux/arm64"))
            .build();
    Path context = directory.resolve("c");
    ImageBuildException error =
        assertThrows(
            ImageBuildException.class,
            () -> ImageBuild.using(runner, Map.of()).prepare(request, context));
    assertTrue(error.getMessage().contains("linux-arm64"), error.getMessage());
    assertFalse(Files.exists(context), "nothing written before the refusal");
  }

  @Test
  void theOtherArchitecturesPlaceholderIsPassedOnForTheImageToRefuse() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, null))
            .platforms(List.of("linux/amd64"))
            .build();
    BuildPlan plan = ImageBuild.using(runner, Map.of()).prepare(request, directory.resolve("c"));
    assertTrue(
        plan.steps().get(1).argv().contains("RUNNER_SHA256_ARM64=" + RunnerRelease.PLACEHOLDER));
  }

  @Test
  void aFailedBuildCarriesCommandStatusAndStderr() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64"))
            .build();
    ImageBuild build = ImageBuild.using(runner, Map.of());
    BuildPlan plan = build.prepare(request, directory.resolve("c"));
    runner.answers.add(new Result(125, List.of(), List.of("Error: no such image")));

    ImageBuildException error = assertThrows(ImageBuildException.class, () -> build.build(plan));

    assertEquals(125, error.exitStatus().orElseThrow());
    assertEquals(plan.steps().get(0).argv(), error.command());
    assertTrue(error.getMessage().startsWith("podman build exited with status 125"));
    assertTrue(error.getMessage().endsWith("Error: no such image"), error.getMessage());
    assertEquals(1, runner.commands.size(), "the main build does not start after a failure");
  }

  @ParameterizedTest
  @CsvSource({
    "PODMAN, podman, {{.ID}} {{.Repository}}:{{.Tag}}",
    "BUILDAH, buildah, {{.ID}} {{.Name}}:{{.Tag}}"
  })
  void cleanRemovesOnlyLabelledImagesByName(BuildTool tool, String program, String format)
      throws Exception {
    runner.answers.add(
        new Result(
            0,
            List.of(
                "1111aaaa localhost/microrunner/runner-ubuntu:2.400.1",
                "1111aaaa localhost/microrunner/runner-ubuntu:latest",
                "2222bbbb <none>:<none>",
                ""),
            List.of()));

    List<String> removed = ImageBuild.using(runner, Map.of()).clean(tool);

    List<String> expected =
        List.of(
            "localhost/microrunner/runner-ubuntu:2.400.1",
            "localhost/microrunner/runner-ubuntu:latest",
            "2222bbbb");
    assertEquals(expected, removed);
    List<String> rmi = new ArrayList<>(List.of(program, "rmi"));
    rmi.addAll(expected);
    assertEquals(
        List.of(
            List.of(
                program, "images", "--filter", "label=dev.microrunner.image", "--format", format),
            rmi),
        runner.commands);
  }

  @Test
  void cleanWithNothingLabelledRemovesNothing() throws Exception {
    assertEquals(List.of(), ImageBuild.using(runner, Map.of()).clean(BuildTool.PODMAN));
    assertEquals(1, runner.commands.size(), "only the listing ran");
  }

  @Test
  void commandLineQuotesWhatAShellWouldSplit() {
    BuildStep step =
        new BuildStep("x", List.of("podman", "build", "--label", "a b", "--build-arg", "Q=it's"));
    assertEquals("podman build --label 'a b' --build-arg 'Q=it'\\''s'", step.commandLine());
  }

  @Test
  void requestValidationNamesTheBadValue() throws Exception {
    Path jar = TestFiles.emptyJar(directory);
    IllegalArgumentException platform =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImageBuildRequest.builder(jar).platforms(List.of("linux/s390x")).build());
    assertTrue(platform.getMessage().contains("linux/s390x"), platform.getMessage());
    IllegalArgumentException tag =
        assertThrows(
            IllegalArgumentException.class,
            () -> ImageBuildRequest.builder(jar).tag("Bad Tag").build());
    assertTrue(tag.getMessage().contains("'Bad Tag'"), tag.getMessage());
  }

  @Test
  void baseImageNameIsDerivedFromTheTag() {
    assertEquals("ghcr.io/o/r-base:main", ImageBuildRequest.baseImageFor("ghcr.io/o/r:main"));
    assertEquals("localhost:5000/r-base", ImageBuildRequest.baseImageFor("localhost:5000/r"));
  }

  @Test
  void aBuildThatCannotRunCarriesTheRunnersCommandAndTail() throws Exception {
    ImageBuildRequest request =
        ImageBuildRequest.builder(TestFiles.emptyJar(directory))
            .runner(RunnerRelease.of("2.400.1", X64, ARM64))
            .platforms(List.of("linux/amd64"))
            .build();
    List<String> argv = List.of("podman", "build");
    RuntimeCommandException refused =
        new RuntimeCommandException("could not launch", argv, null, "podman not found on PATH /x");
    CommandRunner failing =
        new CommandRunner() {
          @Override
          public Result run(Command command) throws RuntimeCommandException {
            throw refused;
          }

          @Override
          public Running start(Command command) {
            throw new UnsupportedOperationException();
          }
        };
    ImageBuild build = ImageBuild.using(failing, Map.of());
    BuildPlan plan = build.prepare(request, directory.resolve("c"));

    ImageBuildException error = assertThrows(ImageBuildException.class, () -> build.build(plan));

    assertEquals(argv, error.command());
    assertTrue(error.exitStatus().isEmpty());
    assertEquals("podman not found on PATH /x", error.stderrTail());
    assertTrue(error.getMessage().endsWith("(is podman installed?)"), error.getMessage());
    assertEquals(refused, error.getCause());
  }

  @Test
  void theBuildsOfTheCommandLineGetTheProxySettingsOnly() {
    assertEquals(
        Map.of("HTTPS_PROXY", "http://proxy:3128", "no_proxy", "localhost"),
        ImageBuild.proxySettings(
            Map.of(
                "HTTPS_PROXY", "http://proxy:3128",
                "no_proxy", "localhost",
                "GITHUB_TOKEN", "ghp_x",
                "JAVA_TOOL_OPTIONS", "-Dx")));
  }
}
