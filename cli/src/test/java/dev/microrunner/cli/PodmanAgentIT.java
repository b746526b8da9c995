package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop on real podman with runc: the agent runs in a container made here (busybox and the C
 * libraries the host JRE needs), with the host JRE and the built jar mounted read-only (the jar
 * through {@code -D}), takes one job from the simulator over the host network, and exits.
 */
class PodmanAgentIT {

  private static final String IMAGE = "localhost/microrunner-agent-test:1";
  private static final Pattern LIBRARY = Pattern.compile("(?:=>\\s*)?(/\\S+)\\s+\\(0x");

  @TempDir Path work;
  private CliProcess cli;

  @BeforeEach
  void start() throws IOException {
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/podman")),
        "podman is not installed (CI installs it through .ci/run)");
    cli = new CliProcess(work);
  }

  @AfterEach
  void stop() {
    if (cli != null) {
      cli.sim.close();
    }
  }

  @Test
  void theAgentInAContainerTakesAJobAndExits() throws Exception {
    Path containersConf = work.resolve("containers.conf");
    Files.writeString(
        containersConf,
        """
        [containers]
        default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
        [engine]
        runtime = "runc"
        """);
    Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
    buildImage(containersConf, javaHome);
    Path distribution = work.resolve("container-runner");
    SimulatedRunnerDistribution.write(
        distribution,
        javaHome.resolve("bin/java").toString(),
        "/opt/microrunner/microrunner.jar",
        SimulatedRunnerMain.class.getName());
    cli.enqueueJobs(1, Duration.ofMillis(200));

    List<Mount> mounts = new ArrayList<>();
    mounts.add(new Mount(javaHome, javaHome.toString(), true));
    for (Path configuration : jreConfigurationDirectories(javaHome)) {
      mounts.add(new Mount(configuration, configuration.toString(), true));
    }
    mounts.add(new Mount(distribution, "/opt/actions-runner", true));
    RunnerConfig runner =
        RunnerConfig.builder()
            .target(GitHubTarget.of(cli.sim.apiUrl().toString()))
            .scope(RunnerScope.of("repo", "octo/hello"))
            .credentials(Credentials.pat(Secret.of(CliProcess.PAT)))
            .labels(CliProcess.LABELS)
            .pull(PullPolicy.NEVER)
            .vm(
                vm -> {
                  vm.image(IMAGE)
                      .cpus(1)
                      .memoryMib(768)
                      .network("host")
                      .environment(
                          Map.of(
                              "MICRORUNNER_JAVA",
                              javaHome.resolve("bin/java").toString(),
                              "RUNNER_INSTALL",
                              "/opt/actions-runner"));
                  mounts.forEach(vm::mount);
                })
            .agentFromHost(cli.jar.getParent(), "/opt/microrunner")
            .user("root")
            .repeat(1)
            .registrationTimeout(Duration.ofMinutes(2))
            .build();
    Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    Orchestrator orchestrator =
        Orchestrator.builder(
                OrchestratorConfig.builder(runner)
                    .runtime("podman+runc")
                    .runtimeEnvironment(Map.of("CONTAINERS_CONF", containersConf.toString()))
                    .prefix("mrpodman")
                    .stateDirectory(work.resolve("state"))
                    .build())
            .listener(events::add)
            .build();

    Orchestrator.Result result = orchestrator.run();

    assertEquals(LoopEvent.EndReason.COMPLETED, result.loops().get(0).reason(), "" + events);
    SimState state = cli.sim.state();
    assertEquals(1, state.finishedJobs(), () -> "jobs: " + state.jobs());
    assertEquals(List.of(), state.runners(), "registration left at the simulator");
    List<LoopEvent.VmExited> exits =
        events.stream()
            .filter(LoopEvent.VmExited.class::isInstance)
            .map(LoopEvent.VmExited.class::cast)
            .toList();
    assertEquals(1, exits.size());
    assertEquals(OptionalInt.of(0), exits.get(0).exitStatus());
  }

  /** {@code /etc/java-17-openjdk} and the like: Debian's JRE links its configuration there. */
  private static Set<Path> jreConfigurationDirectories(Path javaHome) throws IOException {
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

  /** busybox, the JRE's C libraries (found with ldd), a passwd file; imported with podman. */
  private void buildImage(Path containersConf, Path javaHome) throws Exception {
    Map<String, String> environment =
        Map.of(
            "PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"),
            "CONTAINERS_CONF", containersConf.toString());
    if (run(environment, "podman", "image", "exists", IMAGE).status() == 0) {
      return;
    }
    Path rootfs = Files.createDirectories(work.resolve("rootfs"));
    Path bin = Files.createDirectories(rootfs.resolve("bin"));
    Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
    for (String applet : run(environment, "/bin/busybox", "--list").output().split("\\s+", -1)) {
      if (!applet.isBlank() && !applet.equals("busybox")) {
        Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
      }
    }
    for (Path library : libraries(environment, javaHome)) {
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
    Files.createDirectories(rootfs.resolve("tmp"));
    Files.setPosixFilePermissions(
        rootfs.resolve("tmp"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
    Path tar = work.resolve("rootfs.tar");
    Result archive = run(environment, "tar", "-C", rootfs.toString(), "-cf", tar.toString(), ".");
    assertEquals(0, archive.status(), archive.output());
    Result imported = run(environment, "podman", "import", tar.toString(), IMAGE);
    assertEquals(0, imported.status(), imported.output());
  }

  private static Set<Path> libraries(Map<String, String> environment, Path javaHome)
      throws Exception {
    List<String> objects = new ArrayList<>();
    objects.add(javaHome.resolve("bin/java").toString());
    try (Stream<Path> files = Files.walk(javaHome.resolve("lib"))) {
      files.filter(f -> f.toString().endsWith(".so")).forEach(f -> objects.add(f.toString()));
    }
    Set<Path> libraries = new TreeSet<>();
    for (String object : objects) {
      Result ldd = run(environment, "ldd", object);
      Matcher matcher = LIBRARY.matcher(ldd.output());
      while (matcher.find()) {
        Path library = Path.of(matcher.group(1));
        if (!library.startsWith(javaHome) && Files.exists(library)) {
          libraries.add(library);
        }
      }
    }
    assertTrue(libraries.stream().anyMatch(l -> l.getFileName().toString().startsWith("libc.")));
    return libraries;
  }

  private record Result(int status, String output) {}

  private static Result run(Map<String, String> environment, String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(List.of(command) + " did not end");
    }
    return new Result(process.exitValue(), output);
  }
}
