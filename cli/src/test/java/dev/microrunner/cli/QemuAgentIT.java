package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.cli.demo.HostJavaImage;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.QemuSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole VM path on real QEMU microVMs under TCG: two loops take three jobs from the simulator;
 * the agent runs in each VM on the host's Java runtime (shared read-only, with the built jar),
 * publishes {@code .tkn} through the shared directory, the simulated runner takes a job, and then a
 * {@code .trm} reaches a guest whose runner is busy, which ends within the grace period. Afterwards
 * nothing is left: no QEMU, no VM directory, no registration.
 */
@Tag("qemu")
class QemuAgentIT {
  private static final Logger LOG = LoggerFactory.getLogger(QemuAgentIT.class);
  private static final Duration GRACE = Duration.ofSeconds(90);
  private static final String PREFIX = "mrqemu";

  @TempDir Path work;
  private CliProcess cli;

  @BeforeEach
  void start() throws IOException {
    Map<String, String> path =
        Map.of("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
    boolean installed =
        Executables.find("qemu-system-x86_64", path).isPresent()
            && Executables.find("podman", path).isPresent();
    if (!installed && "true".equals(System.getenv("CI"))) {
      fail("qemu-system-x86_64 or podman is missing in CI: .ci/run must install them");
    }
    assumeTrue(installed, "QEMU or podman is not installed (CI installs them through .ci/run)");
    cli = new CliProcess(work);
  }

  @AfterEach
  void stop() {
    if (cli != null) {
      cli.sim.close();
    }
  }

  @Test
  void twoLoopsOfQemuVmsTakeThreeJobsAndATrmEndsABusyGuestWithinTheGrace() throws Exception {
    String image = HostJavaImage.build(work.resolve("image"), Map.of());
    Path javaHome = HostJavaImage.javaHome();
    Path distribution = work.resolve("vm-runner");
    SimulatedRunnerDistribution.write(
        distribution,
        javaHome.resolve("bin/java").toString(),
        "/opt/microrunner/microrunner.jar",
        SimulatedRunnerMain.class.getName());
    cli.enqueueJobs(3, Duration.ofMillis(200));
    cli.sim.enqueueJob(new SimJob("job-busy", CliProcess.LABELS, Duration.ofMinutes(30)));
    List<Mount> mounts = HostJavaImage.javaMounts();
    RunnerConfig runner =
        RunnerConfig.builder()
            .target(GitHubTarget.of(cli.sim.apiUrl().toString()))
            .scope(RunnerScope.of("repo", "octo/hello"))
            .credentials(Credentials.pat(Secret.of(CliProcess.PAT)))
            .labels(CliProcess.LABELS)
            .pull(PullPolicy.NEVER)
            .vm(
                vm -> {
                  vm.image(image)
                      .cpus(1)
                      .memoryMib(768)
                      .network("restricted:" + cli.sim.apiUrl().getPort())
                      .mount(new Mount(distribution, "/opt/actions-runner", true))
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
            .repeat(-1)
            .grace(GRACE)
            .registrationTimeout(Duration.ofMinutes(5))
            .build();
    Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
    Path state = work.resolve("state");
    Orchestrator orchestrator =
        Orchestrator.builder(
                OrchestratorConfig.builder(runner)
                    .loops(2)
                    .parallelStart(2)
                    .runtime("qemu")
                    .runtimeEnvironment(
                        QemuSettings.of(
                            Optional.of(QemuSettings.Accel.TCG),
                            Optional.empty(),
                            Optional.of(Path.of("target", "qemu-cache").toAbsolutePath())))
                    .prefix(PREFIX)
                    .baseDirectory(Optional.of(work.resolve("loops")))
                    .stateDirectory(state)
                    .build())
            .listener(events::add)
            .build();
    long begin = System.nanoTime();
    CompletableFuture<Orchestrator.Result> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return orchestrator.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });

    await()
        .atMost(Duration.ofMinutes(15))
        .pollInterval(Duration.ofMillis(500))
        .failFast(run::isDone)
        .until(() -> cli.sim.state().finishedJobs() == 3 && cli.sim.state().runningJobs() == 1);
    long jobsDone = System.nanoTime();
    orchestrator.stop(false);
    Orchestrator.Result result = run.get(GRACE.toSeconds() + 120, TimeUnit.SECONDS);
    long stopped = System.nanoTime();
    LOG.info(
        "qemu end-to-end (TCG): 3 jobs through {} VMs in {} s; .trm to a busy guest ended it in {}"
            + " s",
        events.stream().filter(LoopEvent.VmStarted.class::isInstance).count(),
        (jobsDone - begin) / 1_000_000_000,
        (stopped - jobsDone) / 1_000_000_000.0);

    assertEquals(2, result.loops().size(), "" + events);
    assertTrue(
        Duration.ofNanos(stopped - jobsDone).compareTo(GRACE) < 0,
        "the busy guest was not done within the grace period: " + events);
    List<LoopEvent.VmExited> exits =
        events.stream()
            .filter(LoopEvent.VmExited.class::isInstance)
            .map(LoopEvent.VmExited.class::cast)
            .toList();
    for (LoopEvent.VmExited exit : exits) {
      assertTrue(exit.exitStatus().isPresent(), "" + exit);
      assertTrue(exit.exitStatus().getAsInt() < 128, "a VM was killed: " + exits);
    }
    SimState simState = cli.sim.state();
    assertEquals(
        3,
        simState.jobs().stream()
            .filter(
                j ->
                    j.name().startsWith("job-")
                        && !j.name().equals("job-busy")
                        && j.status().equals("completed"))
            .count(),
        "" + simState.jobs());
    assertEquals(List.of(), simState.runners(), "registration left at the simulator");
    assertFalse(qemuRunning(), "a QEMU of this test is still running");
    Path vmDirectories = state.resolve("vm").resolve("qemu");
    if (Files.isDirectory(vmDirectories)) {
      try (Stream<Path> left = Files.list(vmDirectories)) {
        assertEquals(List.of(), left.toList(), "VM directories left behind");
      }
    }
  }

  private static boolean qemuRunning() {
    return ProcessHandle.allProcesses()
        .anyMatch(
            process -> {
              try {
                String cmdline =
                    new String(
                        Files.readAllBytes(
                            Path.of("/proc", Long.toString(process.pid()), "cmdline")),
                        StandardCharsets.UTF_8);
                return cmdline.contains("microrunner:" + PREFIX);
              } catch (IOException e) {
                return false;
              }
            });
  }
}
