package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.microrunner.image.internal.ExecCommandRunner;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code podman build} of Containerfile.main through {@link ImageBuild}, then {@code podman
 * run} of the image's entrypoint.
 *
 * <p>No registry is reachable, so the images the build starts from are made here: a base image
 * (busybox, the C libraries a JRE needs copied from this machine, the runner user, catatonit as the
 * init) and a JDK image (the same plus this machine's JDK), both with {@code podman import}. The
 * actions/runner archive is a small stand-in served on 127.0.0.1 (build steps use the host
 * network), with its real SHA-256. The agent is a stand-in jar whose main prints a usage text: the
 * real microrunner jar is built by the cli module, after this one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PodmanImageBuildTest {
  static final String RUNNER_VERSION = "0.0.1";
  // Every image the builds here make, intermediate stages included, carries it: the clean-up
  // removes exactly those.
  static final String TEST_LABEL = "dev.microrunner.test-run";

  Path directory;
  final String suffix = UUID.randomUUID().toString().substring(0, 8);
  final String baseImage = "localhost/microrunner-test/base:" + suffix;
  final String jdkImage = "localhost/microrunner-test/jdk:" + suffix;
  final String mainImage = "localhost/microrunner-test/runner:" + suffix;
  final List<String> imagesMade = new ArrayList<>();
  final ExecCommandRunner commands = new ExecCommandRunner();
  Map<String, String> podmanEnvironment;
  HttpServer releases;
  String archiveSha256;
  Path agentJar;

  @BeforeAll
  void makeBaseImagesAndRelease(@TempDir Path temporary) throws Exception {
    directory = temporary;
    assumeTrue(onPath("podman"), "podman is not installed: the real image build test is skipped");
    Path conf = directory.resolve("containers.conf");
    // crun fails on this machine's cgroup setup; runc works with explicit ulimits.
    Files.writeString(
        conf,
        "[containers]\n"
            + "default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"
            + "[engine]\n"
            + "runtime = \"runc\"\n");
    podmanEnvironment = Map.of("CONTAINERS_CONF", conf.toString());

    Path javaHome = Path.of(System.getProperty("java.home"));
    assertTrue(Files.isDirectory(javaHome.resolve("jmods")), javaHome + " has no jmods");
    // The image's PID 1: whichever of the inits the base images use is installed here.
    Path init =
        Stream.of("catatonit", "tini-static", "tini")
            .map(PodmanImageBuildTest::findOnPath)
            .filter(Objects::nonNull)
            .findFirst()
            .map(Path::of)
            .orElseThrow(() -> new AssertionError("install catatonit or tini (an init for PID 1)"));
    Set<String> libraries =
        sharedLibraries(
            init,
            javaHome.resolve("bin/java"),
            javaHome.resolve("bin/jlink"),
            javaHome.resolve("lib/server/libjvm.so"),
            javaHome.resolve("lib/libzip.so"),
            javaHome.resolve("lib/libjimage.so"),
            javaHome.resolve("lib/libnet.so"),
            javaHome.resolve("lib/libnio.so"));

    Path baseRoot = rootFilesystem(directory.resolve("base-root"), libraries);
    Files.copy(init, baseRoot.resolve("usr/local/sbin/microrunner-init"));
    importImage(baseRoot, baseImage, List.of());

    Path jdkRoot = rootFilesystem(directory.resolve("jdk-root"), libraries);
    Path jdkTar = directory.resolve("jdk.tar");
    run("tar", "-C", jdkRoot.toString(), "-cf", jdkTar.toString(), ".");
    String home = javaHome.toString().substring(1);
    run(
        "tar",
        "-C",
        "/",
        "--dereference",
        "--exclude=src.zip",
        "--transform=s," + home + ",opt/java/openjdk,",
        "-rf",
        jdkTar.toString(),
        home + "/bin",
        home + "/conf",
        home + "/jmods",
        home + "/lib",
        home + "/release");
    run(
        "podman",
        "import",
        "--change",
        "ENV=JAVA_HOME=/opt/java/openjdk",
        jdkTar.toString(),
        jdkImage);
    imagesMade.add(jdkImage);

    Path archive = runnerArchive();
    byte[] archiveBytes = Files.readAllBytes(archive);
    archiveSha256 =
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(archiveBytes));
    releases = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    String path =
        "/v"
            + RUNNER_VERSION
            + "/actions-runner-linux-"
            + Architecture.host().runnerArch()
            + "-"
            + RUNNER_VERSION
            + ".tar.gz";
    releases.createContext(
        "/",
        exchange -> {
          boolean found = exchange.getRequestURI().getPath().equals(path);
          exchange.sendResponseHeaders(found ? 200 : 404, found ? archiveBytes.length : -1);
          try (OutputStream body = exchange.getResponseBody()) {
            if (found) {
              body.write(archiveBytes);
            }
          }
        });
    releases.start();

    agentJar = standInAgentJar();
  }

  @AfterAll
  void removeImages() throws Exception {
    if (releases != null) {
      releases.stop(0);
    }
    if (podmanEnvironment == null) {
      return;
    }
    List<String> built =
        commands
            .run(
                List.of(
                    "podman",
                    "images",
                    "--all",
                    "--quiet",
                    "--filter",
                    "label=" + TEST_LABEL + "=" + suffix),
                podmanEnvironment)
            .stdout();
    List<String> remove = new ArrayList<>(List.of("podman", "rmi", "--force"));
    remove.addAll(new LinkedHashSet<>(built));
    remove.addAll(imagesMade);
    commands.run(remove, podmanEnvironment);
  }

  @Test
  void buildsTheMainImageAndItsEntrypointRunsTheAgent() throws Exception {
    List<String> built = ImageBuild.using(commands, podmanEnvironment).build(plan(archiveSha256));
    assertEquals(List.of(mainImage), built);

    // The entrypoint: init, then the launcher, then the jar's main with "agent" first.
    CommandRunner.CommandResult help =
        run("podman", "run", "--rm", "--network", "none", mainImage, "--help");
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

    CommandRunner.CommandResult layout =
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
                + " test -e /usr/local/lib/microrunner-build || echo build-scripts-removed");
    assertEquals(
        List.of("installdependencies ran", "1001", "/opt/actions-runner", "build-scripts-removed"),
        layout.stdout());

    CommandRunner.CommandResult labels =
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
        archiveSha256.startsWith("0")
            ? "1" + archiveSha256.substring(1)
            : "0" + archiveSha256.substring(1);
    ImageBuild build = ImageBuild.using(commands, podmanEnvironment);
    BuildPlan plan = plan(wrong);

    ImageBuildException error = assertThrows(ImageBuildException.class, () -> build.build(plan));

    assertNotEquals(0, error.exitStatus().orElseThrow());
    assertTrue(error.getMessage().contains("install-runner.sh"), error.getMessage());
    CommandRunner.CommandResult exists =
        commands.run(List.of("podman", "image", "exists", mainImage + "-wrong"), podmanEnvironment);
    assertEquals(1, exists.exitStatus(), "no image is tagged after a failed verification");
  }

  private BuildPlan plan(String sha256) throws IOException {
    String sha256X64 = Architecture.host() == Architecture.X64 ? sha256 : null;
    String sha256Arm64 = Architecture.host() == Architecture.ARM64 ? sha256 : null;
    String tag = sha256.equals(archiveSha256) ? mainImage : mainImage + "-wrong";
    ImageBuildRequest request =
        ImageBuildRequest.builder(agentJar)
            .tool(BuildTool.PODMAN)
            .runner(RunnerRelease.of(RUNNER_VERSION, sha256X64, sha256Arm64))
            .existingBaseImage(baseImage)
            .jdkImage(jdkImage)
            .network("host")
            .runnerDownloadBase("http://127.0.0.1:" + releases.getAddress().getPort())
            .tag(tag)
            .label(TEST_LABEL, suffix)
            .build();
    Path context = Files.createTempDirectory(directory, "context");
    return ImageBuild.using(commands, podmanEnvironment).prepare(request, context);
  }

  /** busybox with every applet, the given libraries at their paths, and the runner user. */
  private Path rootFilesystem(Path root, Set<String> libraries) throws Exception {
    for (String dir : List.of("bin", "etc", "tmp", "opt", "usr/local/sbin", "usr/local/lib")) {
      Files.createDirectories(root.resolve(dir));
    }
    Files.setPosixFilePermissions(
        root.resolve("tmp"), PosixFilePermissions.fromString("rwxrwxrwx"));
    Path busybox = root.resolve("bin/busybox");
    Files.copy(Path.of(findOnPath("busybox")), busybox);
    for (String applet : run(busybox.toString(), "--list").stdout()) {
      Path link = root.resolve("bin").resolve(applet);
      if (!applet.equals("busybox") && !Files.exists(link)) {
        Files.createSymbolicLink(link, Path.of("busybox"));
      }
    }
    for (String library : libraries) {
      Path target = root.resolve(library.substring(1));
      Files.createDirectories(target.getParent());
      if (!Files.exists(target)) {
        Files.copy(Path.of(library), target);
      }
    }
    Files.writeString(
        root.resolve("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:123:runner:/home/runner:/bin/sh\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:\ndocker:x:123:runner\n");
    return root;
  }

  private void importImage(Path root, String image, List<String> changes) throws Exception {
    Path tar = directory.resolve(root.getFileName() + ".tar");
    run("tar", "-C", root.toString(), "-cf", tar.toString(), ".");
    List<String> argv = new ArrayList<>(List.of("podman", "import"));
    argv.addAll(changes);
    argv.addAll(List.of(tar.toString(), image));
    run(argv.toArray(String[]::new));
    imagesMade.add(image);
  }

  /** The shared libraries the given binaries load, with the dynamic loader, from ldd. */
  private Set<String> sharedLibraries(Path... binaries) throws Exception {
    Pattern resolved = Pattern.compile("=> (/\\S+)|^\\s*(/\\S+) \\(0x");
    Set<String> libraries = new LinkedHashSet<>();
    for (Path binary : binaries) {
      // ldd exits 1 on a static binary, which needs no library: its output is then empty.
      for (String line : commands.run(List.of("ldd", binary.toString()), Map.of()).stdout()) {
        Matcher matcher = resolved.matcher(line);
        if (matcher.find()) {
          String library = matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
          if (!library.startsWith(System.getProperty("java.home")) && !library.contains("/jvm/")) {
            libraries.add(library);
          }
        }
      }
    }
    return libraries;
  }

  /** A stand-in actions/runner archive: the scripts the image build and the agent look for. */
  private Path runnerArchive() throws Exception {
    Path tree = Files.createDirectories(directory.resolve("runner-tree/bin"));
    Path install = tree.resolve("installdependencies.sh");
    Files.writeString(
        install,
        "#!/bin/sh\necho 'installdependencies ran' > \"$(dirname \"$0\")/../dependencies-installed\"\n");
    Path runScript = tree.getParent().resolve("run.sh");
    Files.writeString(runScript, "#!/bin/sh\necho stand-in run.sh\n");
    for (Path script : List.of(install, runScript)) {
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path archive = directory.resolve("runner.tar.gz");
    run("tar", "-C", tree.getParent().toString(), "-czf", archive.toString(), "run.sh", "bin");
    return archive;
  }

  /** A jar whose main prints a usage line with its arguments and the runtime's modules. */
  private Path standInAgentJar() throws IOException {
    Path sources = Files.createDirectories(directory.resolve("agent-src"));
    Path source = sources.resolve("StandInAgent.java");
    Files.writeString(
        source,
        "public class StandInAgent {\n"
            + "  public static void main(String[] args) {\n"
            + "    System.out.println(\"Usage: microrunner \" + String.join(\" \", args));\n"
            + "    ModuleLayer.boot().modules().stream().map(Module::getName).sorted()\n"
            + "        .forEach(name -> System.out.println(\"module \" + name));\n"
            + "  }\n"
            + "}\n");
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

  private CommandRunner.CommandResult run(String... argv) throws Exception {
    CommandRunner.CommandResult result = commands.run(List.of(argv), podmanEnvironment);
    assertEquals(
        0, result.exitStatus(), () -> String.join(" ", argv) + " failed: " + result.stderrTail());
    return result;
  }

  private static boolean onPath(String program) {
    return findOnPath(program) != null;
  }

  private static String findOnPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    return null;
  }
}
