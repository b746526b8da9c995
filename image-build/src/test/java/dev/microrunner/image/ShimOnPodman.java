package dev.microrunner.image;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.Executables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The image's docker shim in front of the real docker CLI and a real podman API service configured
 * as in the VM: what a job's {@code docker} commands reach inside a microrunner VM, made on this
 * machine.
 *
 * <ul>
 *   <li>{@code podman system service} on a socket of its own (never the machine's
 *       /var/run/docker.sock), with the containers.conf settings setup-base.sh writes in the image
 *       ({@code netns = "host"}, cgroupfs, file events) plus runc and explicit ulimits, which this
 *       machine needs (see {@link LocalPodmanBases}).
 *   <li>A {@link LocalRegistry} the service pulls from, so that {@code docker pull} works offline.
 *   <li>The shim from the build context, with {@code MICRORUNNER_REAL_DOCKER} naming the docker CLI
 *       found on PATH and {@code MICRORUNNER_DOCKER_HOSTS} a hosts file of its own standing in for
 *       the VM's /etc/hosts.
 *   <li>{@code DOCKER_CONFIG} in a directory of its own, whose cli-plugins the tests may fill.
 * </ul>
 *
 * <p>The tools are required: outside CI a missing one skips the test, in CI it fails it (.ci/run
 * installs podman, busybox and docker-compose; the docker CLI comes with the machine).
 */
final class ShimOnPodman {
  final Path directory;
  final LocalPodmanBases podman;
  final LocalRegistry registry;
  final Path socket;
  final Path hostsFile;
  final Path dockerConfig;
  final Path shim;
  final Path realDocker;
  private final Running service;
  private final ConcurrentLinkedQueue<String> serviceLog = new ConcurrentLinkedQueue<>();
  private final Map<String, String> environment = new HashMap<>();

  private ShimOnPodman(Path directory) throws Exception {
    this.directory = directory;
    require("podman", "podman");
    require("docker", "the docker CLI");
    require("busybox", "busybox (busybox-static)");
    realDocker = Executables.find("docker", System.getenv()).orElseThrow();
    podman = LocalPodmanBases.withoutBases(Files.createDirectories(directory.resolve("podman")));
    registry = LocalRegistry.start();
    shim =
        TestFiles.context(Files.createDirectories(directory.resolve("shim")))
            .resolve("docker-shim");
    socket = directory.resolve("docker.sock");
    hostsFile = directory.resolve("hosts");
    Files.writeString(hostsFile, "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    dockerConfig = Files.createDirectories(directory.resolve("docker-config"));
    Files.createDirectories(dockerConfig.resolve("cli-plugins"));
    Path temporary = Files.createDirectories(directory.resolve("tmp"));

    Path serviceConf = directory.resolve("service-containers.conf");
    Files.writeString(
        serviceConf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        netns = "host"
        [engine]
        runtime = "runc"
        cgroup_manager = "cgroupfs"
        events_logger = "file"
        """);
    Map<String, String> serviceEnvironment =
        Map.of(
            "CONTAINERS_CONF",
            serviceConf.toString(),
            "CONTAINERS_REGISTRIES_CONF",
            registry.registriesConf(directory.resolve("registries.conf")).toString());
    service =
        CommandRunner.commonsExec()
            .start(
                Command.of(
                        List.of("podman", "system", "service", "--time=0", "unix://" + socket),
                        ChildEnvironment.of(serviceEnvironment))
                    .withOutput(serviceLog::add, serviceLog::add));
    await("podman system service listens on " + socket)
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              if (service.exitStatus().isPresent()) {
                throw new AssertionError("podman system service ended: " + serviceLog);
              }
              return Files.exists(socket);
            });

    environment.put("DOCKER_HOST", "unix://" + socket);
    environment.put("DOCKER_CONFIG", dockerConfig.toString());
    environment.put("MICRORUNNER_REAL_DOCKER", realDocker.toString());
    environment.put("MICRORUNNER_DOCKER_HOSTS", hostsFile.toString());
    environment.put("TMPDIR", temporary.toString());
  }

  static ShimOnPodman start(Path directory) throws Exception {
    return new ShimOnPodman(directory);
  }

  /** Skips the test outside CI when {@code program} is missing, fails it in CI. */
  static void require(String program, String what) {
    boolean present = Executables.find(program, System.getenv()).isPresent();
    if ("true".equals(System.getenv("CI"))) {
      assertTrue(present, what + " is missing: CI needs it (see .ci/run)");
    } else {
      assumeTrue(present, what + " is not installed: the test is skipped");
    }
  }

  /** The environment the shim runs with. */
  Map<String, String> environment() {
    return Map.copyOf(environment);
  }

  /** Runs {@code docker ARGS} through the shim. */
  Result docker(List<String> arguments) throws Exception {
    return docker(Map.of(), arguments);
  }

  Result docker(String... arguments) throws Exception {
    return docker(List.of(arguments));
  }

  /** Runs {@code docker ARGS} through the shim, with {@code extra} added to its environment. */
  Result docker(Map<String, String> extra, List<String> arguments) throws Exception {
    List<String> argv = new ArrayList<>();
    argv.add(shim.toString());
    argv.addAll(arguments);
    Map<String, String> env = new HashMap<>(environment);
    env.putAll(extra);
    return Commands.run(argv, env);
  }

  /** {@link #docker(String...)}, failing the test unless it exits 0. */
  Result dockerOk(String... arguments) throws Exception {
    return dockerOk(List.of(arguments));
  }

  Result dockerOk(List<String> arguments) throws Exception {
    Result result = docker(arguments);
    assertEquals(
        0,
        result.exitStatus(),
        () -> "docker " + String.join(" ", arguments) + " failed: " + result.stderrTail());
    return result;
  }

  /** Writes an executable docker CLI plugin {@code docker-NAME} into the config's cli-plugins. */
  Path plugin(String name, String body) throws Exception {
    Path plugin = dockerConfig.resolve("cli-plugins/docker-" + name);
    Files.writeString(
        plugin,
        "#!/bin/sh\n"
            + "if [ \"$1\" = docker-cli-plugin-metadata ]; then\n"
            + "  printf '{\"SchemaVersion\":\"0.1.0\",\"Vendor\":\"microrunner tests\","
            + "\"Version\":\"0.0.1\"}\\n'\n"
            + "  exit 0\n"
            + "fi\n"
            + "shift\n"
            + body
            + "\n");
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwxr-xr-x"));
    return plugin;
  }

  /** Containers and networks carrying {@code label}, for the checks that nothing is left. */
  List<String> containersLabelled(String label) throws Exception {
    return dockerOk("ps", "--all", "--quiet", "--no-trunc", "--filter", "label=" + label).stdout();
  }

  List<String> networksLabelled(String label) throws Exception {
    return dockerOk("network", "ls", "--quiet", "--filter", "label=" + label).stdout();
  }

  /** The hosts file's lines that the shim added. */
  List<String> shimHostsEntries() throws Exception {
    return Files.readAllLines(hostsFile).stream()
        .filter(line -> line.contains("# microrunner-docker"))
        .toList();
  }

  /** Removes what carries {@code label} even when a test failed half-way. */
  void removeLabelled(String label) throws Exception {
    for (String id : containersLabelled(label)) {
      docker("rm", "--force", id);
    }
    docker("network", "prune", "--force", "--filter", "label=" + label);
  }

  /** Stops the service and the registry, and removes the images made for the test. */
  void stop() throws Exception {
    try {
      service.terminate(Duration.ofSeconds(10));
    } finally {
      try {
        registry.close();
      } finally {
        podman.removeImages();
      }
    }
  }
}
