package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code podman build} of Containerfile.main through {@link ImageBuild}, then {@code podman
 * run} of the image's entrypoint, from the bases {@link LocalPodmanBases} makes.
 *
 * <p>The agent is a stand-in jar whose main prints a usage text: the real microrunner jar is built
 * by the cli module, after this one (its PodmanImageBuildIT packages the real agent).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodmanImageBuildTest {
  static final String RUNNER_VERSION = LocalPodmanBases.RUNNER_VERSION;

  Path directory;
  LocalPodmanBases bases;
  String mainImage;
  Map<String, String> podmanEnvironment;
  Path agentJar;

  @BeforeAll
  void makeBaseImagesAndRelease(@TempDir Path temporary) throws Exception {
    directory = temporary;
    assumeTrue(
        LocalPodmanBases.podmanInstalled(),
        "podman is not installed: the real image build test is skipped");
    bases = LocalPodmanBases.create(Files.createDirectory(directory.resolve("bases")));
    podmanEnvironment = bases.podmanEnvironment();
    mainImage = bases.image("runner");
    agentJar = standInAgentJar();
  }

  @AfterAll
  void removeImages() throws Exception {
    if (bases != null) {
      bases.removeImages();
    }
  }

  @Test
  void buildsTheMainImageAndItsEntrypointRunsTheAgent() throws Exception {
    List<String> built =
        ImageBuild.using(CommandRunner.commonsExec(), podmanEnvironment)
            .build(plan(bases.archiveSha256()));
    assertEquals(List.of(mainImage), built);

    // The entrypoint: init, then the launcher, then the jar's main with "agent" first.
    Result help = run("podman", "run", "--rm", "--network", "none", mainImage, "--help");
    assertEquals("Usage: microrunner agent --help", help.stdout().get(0), help.stdout().toString());
    Set<String> modules =
        help.stdout().stream()
            .filter(line -> line.startsWith("module "))
            .map(line -> line.substring("module ".length()))
            .collect(Collectors.toSet());
    assertTrue(
        modules.containsAll(JlinkModulesTest.pinnedModules()),
        "runtime modules " + modules + " lack some of " + JlinkModulesTest.pinnedModules());
    assertFalse(modules.contains("java.desktop"), "the runtime is linked, not a full JDK");

    Result layout =
        run(
            "podman",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            mainImage,
            "-c",
            "cat /opt/actions-runner/dependencies-installed;"
                + " stat -c %u /opt/actions-runner/run.sh;"
                + " echo \"$MICRORUNNER_RUNNER_DIR\";"
                + " test -e /usr/local/lib/microrunner-build || echo build-scripts-removed;"
                + " echo \"$ImageOS $RUNNER_MANUALLY_TRAP_SIG $ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT\"");
    assertEquals(
        List.of(
            "installdependencies ran",
            "1001",
            "/opt/actions-runner",
            "build-scripts-removed",
            Distro.UBUNTU.imageOs() + " 1 1"),
        layout.stdout());

    Result labels =
        run(
            "podman",
            "image",
            "inspect",
            "--format",
            "{{index .Labels \"dev.microrunner.image\"}} {{index .Labels"
                + " \"dev.microrunner.runner-version\"}}",
            mainImage);
    assertEquals(List.of("main " + RUNNER_VERSION), labels.stdout());
  }

  @Test
  void aWrongChecksumFailsTheBuild() throws Exception {
    String wrong =
        bases.archiveSha256().startsWith("0")
            ? "1" + bases.archiveSha256().substring(1)
            : "0" + bases.archiveSha256().substring(1);
    ImageBuild build = ImageBuild.using(CommandRunner.commonsExec(), podmanEnvironment);
    BuildPlan plan = plan(wrong);

    ImageBuildException error = assertThrows(ImageBuildException.class, () -> build.build(plan));

    assertNotEquals(0, error.exitStatus().orElseThrow());
    assertTrue(error.getMessage().contains("install-runner.sh"), error.getMessage());
    Result exists =
        Commands.run(List.of("podman", "image", "exists", mainImage + "-wrong"), podmanEnvironment);
    assertEquals(1, exists.exitStatus(), "no image is tagged after a failed verification");
  }

  private BuildPlan plan(String sha256) throws IOException {
    String sha256X64 = Architecture.host() == Architecture.X64 ? sha256 : null;
    String sha256Arm64 = Architecture.host() == Architecture.ARM64 ? sha256 : null;
    String tag = sha256.equals(bases.archiveSha256()) ? mainImage : mainImage + "-wrong";
    ImageBuildRequest request =
        ImageBuildRequest.builder(agentJar)
            .tool(BuildTool.PODMAN)
            .runner(RunnerRelease.of(RUNNER_VERSION, sha256X64, sha256Arm64))
            .existingBaseImage(bases.baseImage())
            .jdkImage(bases.jdkImage())
            .network("host")
            .runnerDownloadBase(bases.runnerDownloadBase())
            .tag(tag)
            .label(LocalPodmanBases.TEST_LABEL, bases.labelValue())
            .build();
    Path context = Files.createTempDirectory(directory, "context");
    return ImageBuild.using(CommandRunner.commonsExec(), podmanEnvironment)
        .prepare(request, context);
  }

  /** A jar whose main prints a usage line with its arguments and the runtime's modules. */
  private Path standInAgentJar() throws IOException {
    Path sources = Files.createDirectories(directory.resolve("agent-src"));
    Path source = sources.resolve("StandInAgent.java");
    Files.writeString(
        source,
        """
        public class StandInAgent {
          public static void main(String[] args) {
            System.out.println("Usage: microrunner " + String.join(" ", args));
            ModuleLayer.boot().modules().stream().map(Module::getName).sorted()
                .forEach(name -> System.out.println("module " + name));
          }
        }
        """);
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    int status =
        compiler.run(
            null, null, null, "--release", "17", "-d", sources.toString(), source.toString());
    assertEquals(0, status, "the stand-in agent compiles");
    Path jar = directory.resolve("stand-in-agent.jar");
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "StandInAgent");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), manifest)) {
      out.putNextEntry(new JarEntry("StandInAgent.class"));
      out.write(Files.readAllBytes(sources.resolve("StandInAgent.class")));
      out.closeEntry();
    }
    return jar;
  }

  private Result run(String... argv) throws Exception {
    return bases.run(argv);
  }
}
