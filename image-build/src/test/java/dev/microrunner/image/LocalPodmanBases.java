package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Executables;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What a real {@code podman build} of Containerfile.main needs on a machine that reaches no
 * registry, made locally. Test support, shared with the cli module through image-build's test jar.
 *
 * <ul>
 *   <li>A base image: busybox, the C libraries a JRE needs copied from this machine, the runner
 *       user, and catatonit or tini as the init; imported with {@code podman import}.
 *   <li>A JDK image: the same plus this machine's JDK at /opt/java/openjdk.
 *   <li>A stand-in actions/runner archive, version {@value #RUNNER_VERSION}, served on 127.0.0.1
 *       (build steps use the host network), with its real SHA-256.
 *   <li>podman settings through {@code CONTAINERS_CONF}: runc and explicit ulimits, because crun
 *       fails on this machine's cgroup setup.
 * </ul>
 *
 * <p>{@link #withoutBases(Path)} gives the same podman settings without those images, for tests
 * that only need small busybox images ({@link #busyboxImage(String, Map, String...)}).
 *
 * <p>Images built with {@link #label()} and the images made or {@linkplain #removeAtEnd(String)
 * named} here are removed by {@link #removeImages()}.
 */
public final class LocalPodmanBases {
  public static final String RUNNER_VERSION = "0.0.1";
  // Every image the builds carry it, intermediate stages included: the clean-up removes exactly
  // those, never an image another run or a user made.
  public static final String TEST_LABEL = "dev.microrunner.test-run";

  private final Path directory;
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);
  private final List<String> imagesMade = new ArrayList<>();
  private final Path containersConf;
  private final Map<String, String> podmanEnvironment;
  private HttpServer releases;
  private String archiveSha256;

  private LocalPodmanBases(Path directory) throws IOException {
    this.directory = directory;
    containersConf = directory.resolve("containers.conf");
    Files.writeString(
        containersConf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        """);
    podmanEnvironment = Map.of("CONTAINERS_CONF", containersConf.toString());
  }

  /** Whether podman is on the PATH: without it the real build tests are skipped. */
  public static boolean podmanInstalled() {
    return findOnPath("podman") != null;
  }

  /** Makes the base and JDK images in {@code directory} and starts serving the release. */
  public static LocalPodmanBases create(Path directory) throws Exception {
    LocalPodmanBases bases = new LocalPodmanBases(directory);
    try {
      bases.importImages();
      bases.serveRunnerRelease();
      return bases;
    } catch (Exception | Error e) {
      bases.removeImages();
      throw e;
    }
  }

  /**
   * The podman settings and image naming of {@link #create(Path)}, without its images: for tests
   * that make their own with {@link #busyboxImage(String, Map, String...)}.
   */
  public static LocalPodmanBases withoutBases(Path directory) throws IOException {
    return new LocalPodmanBases(directory);
  }

  /**
   * Imports {@link #image(String) image(name)}: busybox with every applet, plus {@code files} (path
   * in the image to content; executable), with {@code changes} as {@code podman import --change}
   * instructions (such as {@code CMD [...]}).
   */
  public String busyboxImage(String name, Map<String, String> files, String... changes)
      throws Exception {
    Path root =
        rootFilesystem(Files.createDirectories(directory.resolve(name + "-root")), Set.of());
    for (Map.Entry<String, String> file : files.entrySet()) {
      Path target = root.resolve(file.getKey().replaceFirst("^/+", ""));
      Files.createDirectories(target.getParent());
      Files.writeString(target, file.getValue());
      Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path tar = directory.resolve(name + ".tar");
    run("tar", "-C", root.toString(), "-cf", tar.toString(), ".");
    List<String> argv = new ArrayList<>(List.of("podman", "import"));
    for (String change : changes) {
      argv.add("--change");
      argv.add(change);
    }
    argv.add(tar.toString());
    argv.add(image(name));
    imagesMade.add(image(name));
    run(argv.toArray(String[]::new));
    return image(name);
  }

  /** Has {@link #removeImages()} remove {@code image} too (one pulled or tagged by a test). */
  public void removeAtEnd(String image) {
    imagesMade.add(image);
  }

  /** {@code CONTAINERS_CONF} for every podman command run against these images. */
  public Map<String, String> podmanEnvironment() {
    return podmanEnvironment;
  }

  /** A name for an image of this run: {@code localhost/microrunner-test/NAME:SUFFIX}. */
  public String image(String name) {
    return "localhost/microrunner-test/" + name + ":" + suffix;
  }

  public String baseImage() {
    return image("base");
  }

  public String jdkImage() {
    return image("jdk");
  }

  /** The label, as {@code KEY=VALUE}, that marks the images this run builds for removal. */
  public String label() {
    return TEST_LABEL + "=" + suffix;
  }

  public String labelValue() {
    return suffix;
  }

  /** The SHA-256 of the served actions/runner archive. */
  public String archiveSha256() {
    return archiveSha256;
  }

  /** Where the archive is served, in the layout of actions/runner's release downloads. */
  public String runnerDownloadBase() {
    return "http://127.0.0.1:" + releases.getAddress().getPort();
  }

  /** Runs {@code argv} with {@link #podmanEnvironment()}; fails the test unless it exits 0. */
  public Result run(String... argv) throws Exception {
    Result result = Commands.run(List.of(argv), podmanEnvironment);
    assertEquals(
        0, result.exitStatus(), () -> String.join(" ", argv) + " failed: " + result.stderrTail());
    return result;
  }

  /** Stops serving the release; removes the images made here and those built with the label. */
  public void removeImages() throws Exception {
    if (releases != null) {
      releases.stop(0);
    }
    List<String> built =
        Commands.run(
                List.of("podman", "images", "--all", "--quiet", "--filter", "label=" + label()),
                podmanEnvironment)
            .stdout();
    List<String> remove = new ArrayList<>(List.of("podman", "rmi", "--force"));
    remove.addAll(new LinkedHashSet<>(built));
    remove.addAll(imagesMade);
    if (remove.size() > 3) {
      // --ignore: an image named for removal may never have been made when a test failed early.
      remove.add(3, "--ignore");
      Commands.run(remove, podmanEnvironment);
    }
  }

  private void importImages() throws Exception {
    Path javaHome = Path.of(System.getProperty("java.home"));
    assertTrue(Files.isDirectory(javaHome.resolve("jmods")), javaHome + " has no jmods");
    // The image's PID 1: whichever of the inits the base images use is installed here.
    Path init =
        Stream.of("catatonit", "tini-static", "tini")
            .map(LocalPodmanBases::findOnPath)
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
    Path baseTar = directory.resolve("base.tar");
    run("tar", "-C", baseRoot.toString(), "-cf", baseTar.toString(), ".");
    imagesMade.add(baseImage());
    run("podman", "import", baseTar.toString(), baseImage());

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
    imagesMade.add(jdkImage());
    run(
        "podman",
        "import",
        "--change",
        "ENV=JAVA_HOME=/opt/java/openjdk",
        jdkTar.toString(),
        jdkImage());
  }

  private void serveRunnerRelease() throws Exception {
    byte[] archiveBytes = Files.readAllBytes(runnerArchive());
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

  /** The shared libraries the given binaries load, with the dynamic loader, from ldd. */
  private Set<String> sharedLibraries(Path... binaries) throws Exception {
    Pattern resolved = Pattern.compile("=> (/\\S+)|^\\s*(/\\S+) \\(0x");
    Set<String> libraries = new LinkedHashSet<>();
    for (Path binary : binaries) {
      // ldd exits 1 on a static binary, which needs no library: its output is then empty.
      for (String line : Commands.run(List.of("ldd", binary.toString()), Map.of()).stdout()) {
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

  private static String findOnPath(String program) {
    return Executables.find(program, System.getenv()).map(Path::toString).orElse(null);
  }
}
