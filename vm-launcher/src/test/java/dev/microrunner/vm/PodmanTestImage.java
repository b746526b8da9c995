package dev.microrunner.vm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Real podman for tests: a containers.conf for this machine and a busybox image made with {@code
 * podman import}, so no registry is needed.
 */
final class PodmanTestImage {
  static final String IMAGE = "localhost/microrunner-test-busybox:1";
  private static final String BUSYBOX = "/bin/busybox";
  private static final List<String> APPLETS =
      List.of("sh", "sleep", "echo", "cat", "pwd", "true", "false", "kill", "env", "ls");

  /**
   * runc, because crun fails on this host's cgroup setup; ulimits podman can apply inside a
   * container without raising the host's hard limits. See docs/runtimes.md.
   */
  static final String CONTAINERS_CONF =
      """
      [containers]
      default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

      [engine]
      runtime = "runc"
      """;

  private PodmanTestImage() {}

  static Optional<Path> podman() {
    return Executables.find(
        "podman", Map.of("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")));
  }

  /** Writes containers.conf into {@code directory} and returns its path. */
  static Path containersConf(Path directory) throws IOException {
    Path conf = directory.resolve("containers.conf");
    Files.writeString(conf, CONTAINERS_CONF);
    return conf;
  }

  /** Builds the image unless it exists. */
  static void build(Path work, Path containersConf) throws Exception {
    CommandRunner runner = CommandRunner.commonsExec();
    Map<String, String> environment =
        Map.of(
            "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"),
            "CONTAINERS_CONF", containersConf.toString());
    String podman = podman().orElseThrow().toString();
    if (runner.run(Command.of(List.of(podman, "image", "exists", IMAGE), environment)).exitStatus()
        == 0) {
      return;
    }
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    Path bin = Files.createDirectories(rootfs.resolve("bin"));
    Files.createDirectories(rootfs.resolve("tmp"));
    Files.createDirectories(rootfs.resolve("etc"));
    Files.copy(Path.of(BUSYBOX), bin.resolve("busybox"));
    for (String applet : APPLETS) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    Path tar = work.resolve("rootfs.tar");
    check(
        runner.run(
            Command.of(
                List.of("tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."), environment)));
    check(runner.run(Command.of(List.of(podman, "import", tar.toString(), IMAGE), environment)));
  }

  private static void check(Result result) {
    assertEquals(0, result.exitStatus(), () -> "failed: " + result.stderr());
  }
}
