package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.image.Distro;
import dev.microrunner.image.ImageBuild;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** {@code microrunner image}: picocli parsing, and the commands it has ImageBuild run. */
class ImageCommandTest {
  static final String X64 = "c".repeat(64);
  static final String ARM64 = "d".repeat(64);

  @TempDir Path directory;
  Path agentJar;
  final List<List<String>> commands = new ArrayList<>();
  final Deque<Result> answers = new ArrayDeque<>();
  final StringWriter out = new StringWriter();
  final StringWriter err = new StringWriter();

  @BeforeEach
  void writeAgentJar() throws IOException {
    agentJar = directory.resolve("microrunner.jar");
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(agentJar), manifest)) {
      jar.flush();
    }
  }

  int run(String... args) {
    CommandLine commandLine =
        new CommandLine(new ImageCommand(ImageBuild.using(new Recording(), Map.of())));
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    return commandLine.execute(args);
  }

  /** Records each command's argv and answers from the queue (exit 0 when it is empty). */
  final class Recording implements CommandRunner {
    @Override
    public Result run(Command command) {
      commands.add(command.argv());
      return answers.isEmpty() ? new Result(0, List.of(), List.of()) : answers.removeFirst();
    }

    @Override
    public Running start(Command command) {
      throw new UnsupportedOperationException("image builds run their commands to completion");
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "podman, ubuntu, podman build",
    "podman, fedora, podman build",
    "buildah, ubuntu, buildah bud --layers",
    "buildah, fedora, buildah bud --layers"
  })
  void dryRunPrintsBothBuildsAndRunsNothing(String builder, String distro, String verb)
      throws IOException {
    Path context = directory.resolve("ctx");
    int status =
        run(
            "build",
            "--dry-run",
            "--builder",
            builder,
            "--distro",
            distro,
            "--runner-version",
            "2.400.1",
            "--runner-sha256-x64",
            X64,
            "--runner-sha256-arm64",
            ARM64,
            "--platform",
            "linux/amd64",
            "--tag",
            "ghcr.io/acme/microrunner-" + distro + ":main",
            "--agent-jar",
            agentJar.toString(),
            "--context",
            context.toString());

    assertEquals(0, status, err.toString());
    assertEquals(List.of(), commands, "a dry run runs nothing");
    String c = context.toAbsolutePath().toString();
    List<String> expected =
        List.of(
            "# build context: " + c,
            verb
                + " --file "
                + c
                + "/Containerfile.base-"
                + distro
                + " --platform linux/amd64 --tag ghcr.io/acme/microrunner-"
                + distro
                + "-base:main --label dev.microrunner.image=base --label dev.microrunner.distro="
                + distro
                + " "
                + c,
            verb
                + " --file "
                + c
                + "/Containerfile.main --platform linux/amd64 --tag ghcr.io/acme/microrunner-"
                + distro
                + ":main --label dev.microrunner.image=main --label dev.microrunner.distro="
                + distro
                + " --label dev.microrunner.runner-version=2.400.1"
                + " --build-arg BASE_IMAGE=ghcr.io/acme/microrunner-"
                + distro
                + "-base:main --build-arg JDK_IMAGE=docker.io/library/eclipse-temurin:21-jdk"
                + " --build-arg RUNNER_VERSION=2.400.1 --build-arg RUNNER_SHA256_X64="
                + X64
                + " --build-arg RUNNER_SHA256_ARM64="
                + ARM64
                + " --build-arg"
                + " RUNNER_DOWNLOAD_BASE=https://github.com/actions/runner/releases/download"
                + " --build-arg IMAGE_OS="
                + Distro.parse(distro).imageOs()
                + " "
                + c);
    assertEquals(expected, out.toString().lines().toList());
    assertTrue(Files.isRegularFile(context.resolve("microrunner.jar")), "the context is kept");
  }

  @Test
  void buildRunsTheStepsPrintsTheImagesAndRemovesItsTemporaryContext() {
    int status =
        run(
            "build",
            "--runner-version",
            "2.400.1",
            "--runner-sha256-x64",
            X64,
            "--platform",
            "linux/amd64",
            "--base-image",
            "localhost/my-base:1",
            "--label",
            "org.opencontainers.image.revision=abc",
            "--agent-jar",
            agentJar.toString());

    assertEquals(0, status, err.toString());
    assertEquals(
        List.of("localhost/microrunner/runner-ubuntu:2.400.1"), out.toString().lines().toList());
    assertEquals(1, commands.size(), "only the main build: the base exists");
    List<String> argv = commands.get(0);
    assertTrue(argv.contains("BASE_IMAGE=localhost/my-base:1"), argv.toString());
    assertTrue(argv.contains("org.opencontainers.image.revision=abc"), argv.toString());
    Path context = Path.of(argv.get(argv.size() - 1));
    assertFalse(Files.exists(context), "the temporary context " + context + " is removed");
  }

  @Test
  void anUnpinnedVersionWithoutItsChecksumIsAUsageError() {
    int status =
        run(
            "build",
            "--dry-run",
            "--runner-version",
            "2.400.1",
            "--platform",
            "linux/arm64",
            "--agent-jar",
            agentJar.toString());

    assertEquals(2, status, err.toString());
    assertTrue(err.toString().contains("--runner-sha256-arm64"), err.toString());
    assertEquals(List.of(), commands);
  }

  @Test
  void aRunnerDownloadMirrorIsPassedToTheMainBuild() {
    int status =
        run(
            "build",
            "--dry-run",
            "--runner-download-base",
            "http://mirror.example:8080/runner",
            "--agent-jar",
            agentJar.toString());

    assertEquals(0, status, err.toString());
    assertTrue(
        out.toString()
            .contains(" --build-arg RUNNER_DOWNLOAD_BASE=http://mirror.example:8080/runner "),
        out.toString());
  }

  @Test
  void aRunnerDownloadBaseThatIsNoUrlIsAUsageError() {
    int status =
        run(
            "build",
            "--dry-run",
            "--runner-download-base",
            "mirror.example/runner",
            "--agent-jar",
            agentJar.toString());

    assertEquals(2, status, err.toString());
    assertTrue(
        err.toString().contains("'mirror.example/runner' is not an http(s) URL"), err.toString());
    assertEquals(List.of(), commands);
  }

  @Test
  void imageAloneAsksForASubcommand() {
    assertEquals(2, run());
    assertTrue(err.toString().contains("build or clean"), err.toString());
    assertEquals(List.of(), commands);
  }

  @Test
  void anUnknownDistroNamesTheOption() {
    assertEquals(2, run("build", "--distro", "arch", "--agent-jar", agentJar.toString()));
    assertTrue(err.toString().contains("--distro"), err.toString());
    assertTrue(err.toString().contains("ubuntu, fedora"), err.toString());
  }

  @Test
  void withoutAJarTheAgentJarOptionIsNamed() {
    // Tests load ImageCommand from a class directory, not from a jar.
    int status =
        run("build", "--dry-run", "--runner-sha256-x64", X64, "--runner-sha256-arm64", ARM64);
    assertEquals(2, status);
    assertTrue(err.toString().contains("not from a jar"), err.toString());
  }

  @Test
  void cleanRemovesWhatTheLabelFinds() {
    answers.add(
        new Result(0, List.of("abc123 localhost/microrunner/runner-ubuntu:2.400.1"), List.of()));

    assertEquals(0, run("clean", "--builder", "buildah"));

    assertEquals(
        List.of(
            List.of(
                "buildah",
                "images",
                "--filter",
                "label=dev.microrunner.image",
                "--format",
                "{{.ID}} {{.Name}}:{{.Tag}}"),
            List.of("buildah", "rmi", "localhost/microrunner/runner-ubuntu:2.400.1")),
        commands);
    assertEquals("removed localhost/microrunner/runner-ubuntu:2.400.1\n", out.toString());
  }

  @Test
  void aFailedBuildIsAnErrorWithTheBuildersMessage() {
    answers.add(new Result(125, List.of(), List.of("Error: base not found")));
    CommandLine commandLine =
        new CommandLine(new ImageCommand(ImageBuild.using(new Recording(), Map.of())));
    StringWriter errors = new StringWriter();
    commandLine.setErr(new PrintWriter(errors, true));
    int status =
        commandLine.execute(
            "build",
            "--runner-sha256-x64",
            X64,
            "--runner-sha256-arm64",
            ARM64,
            "--platform",
            "linux/amd64",
            "--agent-jar",
            agentJar.toString());
    assertEquals(1, status);
    assertTrue(errors.toString().contains("Error: base not found"), errors.toString());
  }
}
