package dev.microrunner.cli.demo;

import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A minimal image for running microrunner's agent on this host's Java runtime inside a VM: busybox
 * and the C libraries the JRE links against, imported into podman without a registry. The JRE
 * itself (and the configuration directories it links to) is shared read-only at its host path. For
 * the demo and the end-to-end tests on hosts without the published runner image.
 */
public final class HostJavaImage {
  public static final String IMAGE = "localhost/microrunner-host-java:1";
  private static final Pattern LIBRARY = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");
  private static final Duration TIMEOUT = Duration.ofMinutes(5);

  private HostJavaImage() {}

  /** This JVM's runtime directory, symlinks resolved. */
  public static Path javaHome() throws IOException {
    return Path.of(System.getProperty("java.home")).toRealPath();
  }

  /** The read-only mounts that make {@link #javaHome()} work in the VM at its host path. */
  public static List<Mount> javaMounts() throws IOException {
    Path javaHome = javaHome();
    List<Mount> mounts = new ArrayList<>();
    mounts.add(new Mount(javaHome, javaHome.toString(), true));
    for (Path configuration : configurationDirectories(javaHome)) {
      mounts.add(new Mount(configuration, configuration.toString(), true));
    }
    return mounts;
  }

  /** {@code /etc/java-17-openjdk} and the like: Debian's JRE links its configuration there. */
  private static Set<Path> configurationDirectories(Path javaHome) throws IOException {
    Set<Path> directories = new TreeSet<>();
    try (Stream<Path> files = Files.walk(javaHome)) {
      for (Path link : files.filter(Files::isSymbolicLink).toList()) {
        Path target = Files.readSymbolicLink(link);
        if (target.isAbsolute() && target.startsWith("/etc") && target.getNameCount() > 1) {
          Path top = Path.of("/etc").resolve(target.getName(1));
          if (Files.isDirectory(top) && !top.equals(Path.of("/etc/ssl"))) {
            directories.add(top);
          }
        }
      }
    }
    return directories;
  }

  /**
   * Imports the image into podman unless it is there. {@code environment} is added to the commands'
   * environment (e.g. {@code CONTAINERS_CONF}).
   */
  public static String build(Path work, Map<String, String> environment)
      throws IOException, VmException {
    CommandRunner runner = CommandRunner.commonsExec();
    Map<String, String> childEnvironment = ChildEnvironment.of(environment);
    String podman =
        Executables.find("podman", childEnvironment)
            .orElseThrow(() -> new VmException("podman is not installed"))
            .toString();
    if (run(runner, childEnvironment, podman, "image", "exists", IMAGE).exitStatus() == 0) {
      return IMAGE;
    }
    Path busybox =
        Executables.find("busybox", childEnvironment)
            .orElseThrow(() -> new VmException("busybox is not installed (busybox-static)"));
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    Path bin = Files.createDirectories(rootfs.resolve("bin"));
    Files.copy(busybox, bin.resolve("busybox"));
    for (String applet : run(runner, childEnvironment, busybox.toString(), "--list").stdout()) {
      if (!applet.isBlank() && !applet.equals("busybox")) {
        Files.createSymbolicLink(bin.resolve(applet.trim()), Path.of("busybox"));
      }
    }
    for (Path library : libraries(runner, childEnvironment, javaHome())) {
      Path copy = rootfs.resolve(library.toString().substring(1));
      Files.createDirectories(copy.getParent());
      if (!Files.exists(copy)) {
        Files.copy(library, copy);
      }
    }
    Path etc = Files.createDirectories(rootfs.resolve("etc"));
    Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    Files.writeString(etc.resolve("group"), "root:x:0:\n");
    Files.createDirectories(rootfs.resolve("root"));
    Files.setPosixFilePermissions(
        Files.createDirectories(rootfs.resolve("tmp")),
        PosixFilePermissions.fromString("rwxrwxrwx"));
    Path tar = work.resolve("rootfs.tar");
    check(
        run(runner, childEnvironment, "tar", "-C", rootfs.toString(), "-cf", tar.toString(), "."));
    check(run(runner, childEnvironment, podman, "import", tar.toString(), IMAGE));
    return IMAGE;
  }

  private static Set<Path> libraries(
      CommandRunner runner, Map<String, String> environment, Path javaHome)
      throws IOException, VmException {
    List<String> objects = new ArrayList<>();
    objects.add(javaHome.resolve("bin/java").toString());
    try (Stream<Path> files = Files.walk(javaHome.resolve("lib"))) {
      files.filter(f -> f.toString().endsWith(".so")).forEach(f -> objects.add(f.toString()));
    }
    Set<Path> libraries = new TreeSet<>();
    for (String object : objects) {
      Result ldd = run(runner, environment, "ldd", object);
      Matcher matcher = LIBRARY.matcher(String.join("\n", ldd.stdout()));
      while (matcher.find()) {
        Path library = Path.of(matcher.group(1));
        if (!library.startsWith(javaHome) && Files.exists(library)) {
          libraries.add(library);
        }
      }
    }
    return libraries;
  }

  private static Result run(CommandRunner runner, Map<String, String> environment, String... argv)
      throws VmException {
    return runner.run(Command.of(List.of(argv), environment).withTimeout(TIMEOUT));
  }

  private static void check(Result result) throws VmException {
    if (result.exitStatus() != 0) {
      throw new VmException("building " + IMAGE + " failed: " + result.stderrTail());
    }
  }
}
