package dev.microrunner.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Executables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The base images' setup-base.sh, run for real as root in a container whose root file system is a
 * directory made here (busybox; no registry is reachable). {@code getent}, {@code groupadd} and
 * {@code useradd} are stand-ins that record their arguments, since busybox has none of them ({@code
 * install} too: a stand-in that copies and sets the mode), and {@code /usr/bin/tini} stands for the
 * distribution's init. What the script leaves in that directory is what a GitHub-hosted runner user
 * expects: uid 1001 in the docker group, passwordless sudo, the docker shim first on PATH, and the
 * init at the path the main image's entrypoint names.
 */
class SetupBaseScriptTest {
  @TempDir Path directory;

  @Test
  void createsTheRunnerUserSudoTheShimAndTheInit() throws Exception {
    assumeTrue(onPath("podman"), "podman is not installed");
    assumeTrue(onPath("busybox"), "busybox is not installed");
    Path context = TestFiles.context(directory);
    Path root = Files.createDirectories(directory.resolve("root"));
    // What the distribution image and its sudo package provide.
    for (String dir :
        List.of(
            "bin",
            "etc/sudoers.d",
            "tmp",
            "usr/bin",
            "usr/sbin",
            "usr/local/bin",
            "usr/local/sbin")) {
      Files.createDirectories(root.resolve(dir));
    }
    Path busybox = root.resolve("bin/busybox");
    Files.copy(Path.of(findOnPath("busybox")), busybox);
    for (String applet : List.of("sh", "cat", "chmod", "cp", "dirname", "ln", "mkdir")) {
      Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
    }
    script(root.resolve("usr/sbin/getent"), "exit 2");
    script(root.resolve("usr/sbin/groupadd"), "echo \"groupadd $*\" >>/calls");
    script(root.resolve("usr/sbin/useradd"), "echo \"useradd $*\" >>/calls");
    script(root.resolve("usr/bin/tini"), "exec \"$@\"");
    // Debian's busybox has no install applet: 'install -m MODE SOURCE TARGET' only.
    script(
        root.resolve("usr/bin/install"),
        "[ \"$1\" = -m ] && [ $# -eq 4 ] || exit 64\ncp \"$3\" \"$4\" && chmod \"$2\" \"$4\"");
    Path build = Files.createDirectories(root.resolve("build"));
    for (String file : List.of("setup-base.sh", "docker-shim")) {
      Files.copy(context.resolve(file), build.resolve(file));
      Files.setPosixFilePermissions(
          build.resolve(file), Files.getPosixFilePermissions(context.resolve(file)));
    }
    Path conf = directory.resolve("containers.conf");
    Files.writeString(
        conf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        """);

    Result result =
        Commands.run(
            List.of(
                "podman",
                "run",
                "--rm",
                "--network",
                "none",
                "--rootfs",
                root.toString(),
                "/build/setup-base.sh"),
            Map.of("CONTAINERS_CONF", conf.toString()));

    assertEquals(0, result.exitStatus(), result.stderrTail());
    assertEquals(
        List.of(
            "groupadd --system docker",
            "useradd --uid 1001 --gid docker --create-home --shell /bin/bash runner"),
        Files.readAllLines(root.resolve("calls")));
    Path sudoers = root.resolve("etc/sudoers.d/runner");
    assertEquals("runner ALL=(ALL) NOPASSWD:ALL\n", Files.readString(sudoers));
    assertEquals(
        "r--r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(sudoers)));
    Path docker = root.resolve("usr/local/bin/docker");
    assertArrayEquals(
        Files.readAllBytes(context.resolve("docker-shim")), Files.readAllBytes(docker));
    assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(docker)));
    Path init = root.resolve("usr/local/sbin/microrunner-init");
    assertTrue(Files.isSymbolicLink(init), init + " is a link to the distribution's init");
    assertEquals(Path.of("/usr/bin/tini"), Files.readSymbolicLink(init));
    String containersConf = Files.readString(root.resolve("etc/containers/containers.conf"));
    assertTrue(containersConf.contains("netns = \"host\""), containersConf);
  }

  private static void script(Path file, String body) throws Exception {
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static boolean onPath(String program) {
    return findOnPath(program) != null;
  }

  private static String findOnPath(String program) {
    return Executables.find(program, System.getenv()).map(Path::toString).orElse(null);
  }
}
