package dev.microrunner.github.sim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.JitConfig;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulated runner as a real process, the way microrunner starts actions/runner. */
class SimulatedRunnerProcessTest {

  private static final String PAT = "ghp_processTestToken000000000";
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private GitHubSimulator sim;
  private GitHubRunnerClient client;
  private final List<Process> processes = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository("octo/hello");
    client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(sim.apiUrl().toString()),
                RunnerScope.of("repo", "octo/hello"),
                Credentials.pat(Secret.of(PAT)))
            .build();
  }

  @AfterEach
  void stop() {
    for (Process process : processes) {
      // run.sh's helper and listener outlive a killed run.sh.
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    sim.close();
  }

  private Process start(List<String> command, Map<String, String> environment) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("ACTIONS_RUNNER_INPUT_"));
    builder.environment().putAll(environment);
    builder.redirectErrorStream(true);
    builder.redirectOutput(dir.resolve("output-" + processes.size() + ".log").toFile());
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  private String output(Process process) throws IOException {
    return Files.readString(dir.resolve("output-" + processes.indexOf(process) + ".log"));
  }

  private static List<String> java(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(SimulatedRunnerTestMain.class.getName());
    command.addAll(List.of(args));
    return command;
  }

  private void awaitOnline(String runnerName) {
    await()
        .atMost(EXIT_TIMEOUT)
        .until(
            () ->
                sim.state()
                    .runner(runnerName)
                    .map(SimState.RunnerState::status)
                    .filter("online"::equals)
                    .isPresent());
  }

  private int awaitExit(Process process) {
    await()
        .atMost(EXIT_TIMEOUT)
        .conditionEvaluationListener(
            condition -> {
              if (condition.getRemainingTimeInMS() <= condition.getPollInterval().toMillis()) {
                System.err.println("Still running; its output so far:\n" + safeOutput(process));
              }
            })
        .until(() -> !process.isAlive());
    return process.exitValue();
  }

  @Test
  void jitRunnerTakesOneMatchingJobAndExitsZero() throws Exception {
    sim.enqueueJob(new SimJob("gpu-job", List.of("gpu"), Duration.ZERO));
    sim.enqueueJob(new SimJob("build", List.of("self-hosted", "krun"), Duration.ofMillis(200)));
    JitConfig jit =
        client.generateJitConfig(
            new JitRequest("ubuntu-krun-1", 1, List.of("self-hosted", "krun", "ubuntu")));

    Process runner =
        start(
            java("run"), Map.of("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal()));

    assertEquals(0, awaitExit(runner));
    String output = output(runner);
    assertTrue(output.contains("√ Connected to GitHub"), output);
    assertTrue(output.contains("Running job: build"), output);
    assertTrue(output.contains("Job build completed with result: Succeeded"), output);
    assertFalse(
        output.contains(jit.encodedJitConfig().reveal()), "the JIT config is never printed");

    SimState state = sim.state();
    assertTrue(state.runners().isEmpty(), "the ephemeral runner is removed: " + state.runners());
    assertEquals(1, state.finishedJobs());
    assertEquals(1, state.queuedJobs(), "the gpu job waits for a gpu runner");
    SimState.JobState build =
        state.jobs().stream().filter(job -> job.name().equals("build")).findFirst().orElseThrow();
    assertEquals("ubuntu-krun-1", build.runnerName().orElseThrow());
    assertEquals("Succeeded", build.result().orElseThrow());
    assertFalse(build.finishedAt().orElseThrow().isBefore(build.startedAt().orElseThrow()));
    assertTrue(client.getRunner(jit.runner().id()).isEmpty());
  }

  @Test
  void runShAcceptsTheJitConfigAsAnArgumentFromADirectoryWithAwkwardCharacters() throws Exception {
    Path runnerDir = dir.resolve("it's a $runner dir");
    Path java =
        Files.createSymbolicLink(
            dir.resolve("the 'java' $binary"),
            Path.of(System.getProperty("java.home"), "bin", "java"));
    SimulatedRunnerDistribution.write(
        runnerDir, java.toString(), "/nonexistent.jar", SimulatedRunnerTestMain.class.getName());
    sim.enqueueJob(new SimJob("lint", List.of("krun"), Duration.ZERO));
    JitConfig jit = client.generateJitConfig(new JitRequest("r-arg", 1, List.of("krun")));
    Process runner =
        start(
            List.of(
                runnerDir.resolve("run.sh").toString(),
                "--jitconfig",
                jit.encodedJitConfig().reveal()),
            Map.of(
                SimulatedRunnerDistribution.CLASSPATH_ENV,
                System.getProperty("java.class.path"),
                "RUNNER_ALLOW_RUNASROOT",
                "1"));
    assertEquals(0, awaitExit(runner), () -> safeOutput(runner));
    assertEquals(1, sim.state().finishedJobs(), () -> safeOutput(runner));
  }

  @Test
  void distributionConfiguresWithARegistrationTokenThenRunsEphemerally() throws Exception {
    Path runnerDir = dir.resolve("runner");
    SimulatedRunnerDistribution.write(
        runnerDir,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        System.getProperty("java.class.path"),
        SimulatedRunnerTestMain.class.getName());
    assertTrue(Files.isExecutable(runnerDir.resolve("config.sh")));
    assertTrue(Files.isExecutable(runnerDir.resolve("run.sh")));
    assertTrue(Files.isExecutable(runnerDir.resolve("bin/Runner.Listener")));
    String token = client.createRegistrationToken().token().reveal();

    Process config =
        start(
            List.of(
                runnerDir.resolve("config.sh").toString(),
                "--unattended",
                "--url",
                sim.apiUrl() + "/octo/hello",
                "--name",
                "cfg-1",
                "--labels",
                "krun,fedora",
                "--ephemeral",
                "--disableupdate"),
            Map.of("ACTIONS_RUNNER_INPUT_TOKEN", token, "RUNNER_ALLOW_RUNASROOT", "1"));
    assertEquals(0, awaitExit(config), () -> safeOutput(config));
    assertTrue(output(config).contains("√ Runner successfully added"));
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(runnerDir.resolve(".credentials"))));
    SimState.RunnerState registered = sim.state().runner("cfg-1").orElseThrow();
    assertEquals(List.of("self-hosted", "Linux", "X64", "krun", "fedora"), registered.labels());
    assertEquals("offline", registered.status());

    sim.enqueueJob(new SimJob("test", List.of("fedora"), Duration.ofMillis(100)));
    Process run =
        start(
            List.of(runnerDir.resolve("run.sh").toString()), Map.of("RUNNER_ALLOW_RUNASROOT", "1"));
    assertEquals(0, awaitExit(run), () -> safeOutput(run));
    assertTrue(output(run).contains("Job test completed with result: Succeeded"));
    assertTrue(sim.state().runner("cfg-1").isEmpty());
    assertEquals(1, sim.state().finishedJobs());
  }

  @Test
  void configRemoveUnregistersWithARemoveToken() throws Exception {
    Path runnerDir = dir.resolve("runner");
    SimulatedRunnerDistribution.write(
        runnerDir, Path.of("/unused.jar"), SimulatedRunnerTestMain.class.getName());
    Map<String, String> environment =
        Map.of(
            SimulatedRunnerDistribution.CLASSPATH_ENV,
            System.getProperty("java.class.path"),
            "RUNNER_ALLOW_RUNASROOT",
            "1");
    String token = client.createRegistrationToken().token().reveal();
    Process config =
        start(
            List.of(
                runnerDir.resolve("config.sh").toString(),
                "--url",
                sim.apiUrl() + "/octo/hello",
                "--token",
                token,
                "--name",
                "keep-1"),
            environment);
    assertEquals(0, awaitExit(config), () -> safeOutput(config));
    assertTrue(sim.state().runner("keep-1").isPresent());

    String removeToken = client.createRemoveToken().token().reveal();
    Process remove =
        start(
            List.of(runnerDir.resolve("config.sh").toString(), "remove", "--token", removeToken),
            environment);
    assertEquals(0, awaitExit(remove), () -> safeOutput(remove));
    assertTrue(sim.state().runner("keep-1").isEmpty());
    assertFalse(Files.exists(runnerDir.resolve(".runner")));
  }

  @Test
  void configShRefusesRootLikeTheRealRunner() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "only meaningful as root");
    Path runnerDir = dir.resolve("runner");
    SimulatedRunnerDistribution.write(
        runnerDir, Path.of("/unused.jar"), SimulatedRunnerTestMain.class.getName());
    Process config =
        start(List.of(runnerDir.resolve("config.sh").toString(), "--url", "x"), Map.of());
    assertEquals(1, awaitExit(config));
    assertTrue(output(config).contains("Must not run with sudo"));
  }

  @Test
  void sigtermTakesTheRunnerOfflineAndExitsPromptly() throws Exception {
    JitConfig jit =
        client.generateJitConfig(new JitRequest("idle-1", 1, List.of("nothing-matches")));
    Process runner =
        start(
            java("run"), Map.of("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal()));
    awaitOnline("idle-1");

    runner.destroy(); // SIGTERM
    int status = awaitExit(runner);
    assertEquals(143, status);
    assertEquals("offline", sim.state().runner("idle-1").orElseThrow().status());
  }

  @Test
  void aJitConfigStartedTwiceGetsOneSession() throws Exception {
    JitConfig jit = client.generateJitConfig(new JitRequest("twice", 1, List.of("x")));
    Map<String, String> environment =
        Map.of("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal());
    Process first = start(java("run"), environment);
    awaitOnline("twice");
    Process second = start(java("run"), environment);
    // Upstream's Constants.Runner.ReturnCode.SessionConflict.
    assertEquals(5, awaitExit(second));
    assertTrue(
        output(second).contains("A session for this runner already exists"),
        () -> safeOutput(second));
    assertTrue(first.isAlive());
  }

  @Test
  void aRunnerWhoseRegistrationIsDeletedStops() throws Exception {
    JitConfig jit = client.generateJitConfig(new JitRequest("doomed", 1, List.of("x")));
    Process runner =
        start(
            java("run"), Map.of("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal()));
    awaitOnline("doomed");
    assertTrue(client.deleteRunner(jit.runner().id()));
    assertEquals(1, awaitExit(runner));
    assertTrue(output(runner).contains("removed"), () -> safeOutput(runner));
  }

  @Test
  void aBrokenJitConfigIsAClearError() throws Exception {
    Process runner = start(java("run", "--jitconfig", "bm90IGpzb24="), Map.of());
    assertEquals(1, awaitExit(runner));
    assertTrue(output(runner).contains("JIT config"), () -> safeOutput(runner));
  }

  private String safeOutput(Process process) {
    try {
      return output(process);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
