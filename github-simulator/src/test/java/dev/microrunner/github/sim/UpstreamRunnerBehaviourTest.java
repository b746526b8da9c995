package dev.microrunner.github.sim;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.GitHubValidationException;
import dev.microrunner.github.JitConfig;
import dev.microrunner.github.JitRequest;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated distribution against what upstream's actions/runner v2.336.0 does, read from its
 * sources: {@code src/Misc/layoutroot/run.sh} and {@code run-helper.sh.template} (exit statuses,
 * restart on 2, signals only with {@code RUNNER_MANUALLY_TRAP_SIG}), {@code
 * src/Runner.Listener/Program.cs} and {@code Runner.cs} (statuses 1, 4, 5, 7, the terminal lines,
 * {@code --version}), {@code JobDispatcher.cs} (a cancelled job is reported {@code Canceled}),
 * {@code Runner.Worker/JobExtension.cs} (job hooks) and {@code Runner.Common/HostContext.cs}
 * ({@code ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT}).
 */
class UpstreamRunnerBehaviourTest {

  private static final String PAT = "ghp_upstreamBehaviourToken000";
  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path dir;
  private GitHubSimulator sim;
  private GitHubRunnerClient client;
  private Path runnerDir;
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
    runnerDir = dir.resolve("runner");
    SimulatedRunnerDistribution.write(
        runnerDir,
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        System.getProperty("java.class.path"),
        SimulatedRunnerTestMain.class.getName());
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

  private JitConfig jit(String name, String... labels) throws Exception {
    return client.generateJitConfig(new JitRequest(name, 1, List.of(labels)));
  }

  private Process start(String program, JitConfig jit, Map<String, String> extra)
      throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(runnerDir.resolve(program).toString()).directory(runnerDir.toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("ACTIONS_RUNNER"));
    builder.environment().remove("RUNNER_MANUALLY_TRAP_SIG");
    builder.environment().put("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal());
    builder.environment().put("RUNNER_ALLOW_RUNASROOT", "1");
    builder.environment().putAll(extra);
    builder.redirectErrorStream(true);
    builder.redirectOutput(dir.resolve("output-" + processes.size() + ".log").toFile());
    Process process = builder.start();
    processes.add(process);
    return process;
  }

  private Process listener(JitConfig jit, Map<String, String> extra) throws IOException {
    return start("bin/Runner.Listener", jit, extra);
  }

  private Process runSh(JitConfig jit, Map<String, String> extra) throws IOException {
    return start("run.sh", jit, extra);
  }

  private String output(Process process) {
    try {
      return Files.readString(dir.resolve("output-" + processes.indexOf(process) + ".log"));
    } catch (IOException e) {
      return e.toString();
    }
  }

  private int awaitExit(Process process) {
    await().atMost(EXIT_TIMEOUT).until(() -> !process.isAlive());
    return process.exitValue();
  }

  private SimState.JobState job(String name) {
    return sim.state().jobs().stream()
        .filter(job -> job.name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private void awaitJobStatus(String name, String status) {
    await().atMost(EXIT_TIMEOUT).until(() -> job(name).status().equals(status));
  }

  @Test
  void aRemovedRegistrationIsStatusOneFromTheListenerAndZeroFromRunSh() throws Exception {
    JitConfig direct = jit("direct-1", "none");
    JitConfig wrapped = jit("wrapped-1", "none");
    Process listener = listener(direct, Map.of());
    Process runSh = runSh(wrapped, Map.of());
    await().atMost(EXIT_TIMEOUT).until(() -> online("direct-1") && online("wrapped-1"));

    client.deleteRunner(direct.runner().id());
    client.deleteRunner(wrapped.runner().id());

    assertEquals(1, awaitExit(listener), () -> output(listener));
    assertEquals(0, awaitExit(runSh), () -> output(runSh));
    assertTrue(output(runSh).contains("Runner listener exit with terminated error"), output(runSh));
  }

  @Test
  void sigtermToRunShWithoutTheManualTrapNeverReachesTheListener() throws Exception {
    sim.enqueueJob(new SimJob("long", List.of("self-hosted"), Duration.ofSeconds(3)));
    Process runSh = runSh(jit("untrapped-1", "self-hosted"), Map.of());
    awaitJobStatus("long", "in_progress");

    runSh.destroy(); // SIGTERM to run.sh alone, as a naive agent sends it

    assertEquals(143, awaitExit(runSh));
    awaitJobStatus("long", "completed");
    assertEquals(Optional.of("Succeeded"), job("long").result(), "the orphaned listener went on");
    assertEquals(Optional.empty(), job("long").cancelStartedAt());
  }

  @Test
  void withTheManualTrapRunShHandsTheSignalToTheListenerWhichCancelsTheJob() throws Exception {
    sim.enqueueJob(
        new SimJob("long", List.of("self-hosted"), Duration.ofSeconds(60), Duration.ofMillis(700)));
    Process runSh = runSh(jit("trapped-1", "self-hosted"), Map.of("RUNNER_MANUALLY_TRAP_SIG", "1"));
    awaitJobStatus("long", "in_progress");

    runSh.destroy();

    awaitExit(runSh);
    SimState.JobState job = job("long");
    assertEquals("completed", job.status(), () -> output(runSh));
    assertEquals(Optional.of("Canceled"), job.result());
    Duration cancelling =
        Duration.between(job.cancelStartedAt().orElseThrow(), job.finishedAt().orElseThrow());
    assertTrue(cancelling.compareTo(Duration.ofMillis(700)) >= 0, cancelling::toString);
    assertTrue(output(runSh).contains("Job long completed with result: Canceled"), output(runSh));
  }

  @Test
  void aListenerKilledWhileCancellingLeavesItsJobInProgressAndBusyAtGitHub() throws Exception {
    sim.enqueueJob(
        new SimJob(
            "stuck", List.of("self-hosted"), Duration.ofSeconds(60), Duration.ofSeconds(20)));
    JitConfig jit = jit("killed-1", "self-hosted");
    Process listener = listener(jit, Map.of());
    awaitJobStatus("stuck", "in_progress");

    listener.destroy();
    await().atMost(EXIT_TIMEOUT).until(() -> job("stuck").cancelStartedAt().isPresent());
    listener.destroyForcibly();
    awaitExit(listener);

    assertEquals("in_progress", job("stuck").status(), "only a runner ends its job");
    assertEquals(Optional.empty(), job("stuck").result());
    String refusal =
        assertThrows(GitHubValidationException.class, () -> client.deleteRunner(jit.runner().id()))
            .getMessage();
    assertTrue(refusal.contains("while it runs a job (HTTP 422)"), refusal);
  }

  @Test
  void aRefusedVersionIsStatusOneOrSevenWithTheVariable() throws Exception {
    SimulatedRunnerDistribution.setVersion(runnerDir, "2.331.0");

    Process plain = listener(jit("old-1", "x"), Map.of());
    Process seven =
        listener(
            jit("old-2", "x"), Map.of("ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE", "1"));
    Process runSh =
        runSh(jit("old-3", "x"), Map.of("ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE", "1"));

    assertEquals(1, awaitExit(plain), () -> output(plain));
    assertTrue(
        output(plain).contains("Runner version v2.331.0 is deprecated and cannot receive messages"),
        output(plain));
    assertEquals(7, awaitExit(seven), () -> output(seven));
    assertEquals(7, awaitExit(runSh), () -> output(runSh));
  }

  @Test
  void anOutdatedJitRunnerUpdatesItselfAndRunShStartsTheNewVersion() throws Exception {
    SimulatedRunnerDistribution.setVersion(runnerDir, "2.335.1");
    JitConfig first = jit("outdated-1", "x");
    Process listener = listener(first, Map.of());
    assertEquals(4, awaitExit(listener), () -> output(listener));
    assertTrue(output(listener).contains("Runner update in progress"), output(listener));

    sim.enqueueJob(new SimJob("after-update", List.of("self-hosted"), Duration.ZERO));
    SimulatedRunnerDistribution.setVersion(runnerDir, "2.335.1");
    Process runSh = runSh(jit("outdated-2", "self-hosted"), Map.of());

    assertEquals(0, awaitExit(runSh), () -> output(runSh));
    String output = output(runSh);
    assertTrue(output.contains("Restarting runner..."), output);
    assertTrue(output.contains("Current runner version: '2.336.0'"), output);
    assertEquals("completed", job("after-update").status(), output);
  }

  @Test
  void jobHooksRunAroundTheJob() throws Exception {
    Path started = dir.resolve("started");
    Path completed = dir.resolve("completed");
    Path startHook = Files.writeString(dir.resolve("start.sh"), "echo ok > '" + started + "'\n");
    Path endHook = Files.writeString(dir.resolve("end.sh"), "echo ok > '" + completed + "'\n");
    sim.enqueueJob(new SimJob("hooked", List.of("self-hosted"), Duration.ZERO));
    Map<String, String> hooks = new HashMap<>();
    hooks.put("ACTIONS_RUNNER_HOOK_JOB_STARTED", startHook.toString());
    hooks.put("ACTIONS_RUNNER_HOOK_JOB_COMPLETED", endHook.toString());

    Process listener = listener(jit("hooks-1", "self-hosted"), hooks);

    assertEquals(0, awaitExit(listener), () -> output(listener));
    assertTrue(Files.exists(started));
    assertTrue(Files.exists(completed));
  }

  @Test
  void diagnosticLogGoesToDiagUnlessPrintedToStdout() throws Exception {
    sim.enqueueJob(new SimJob("one", List.of("self-hosted"), Duration.ZERO));
    sim.enqueueJob(new SimJob("two", List.of("self-hosted"), Duration.ZERO));

    Process quiet = listener(jit("diag-1", "self-hosted"), Map.of());
    assertEquals(0, awaitExit(quiet));
    Process loud =
        listener(jit("diag-2", "self-hosted"), Map.of("ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT", "1"));
    assertEquals(0, awaitExit(loud));

    assertFalse(output(quiet).contains("[RUNNER "), output(quiet));
    try (var logs = Files.list(runnerDir.resolve("_diag"))) {
      assertTrue(logs.anyMatch(log -> log.getFileName().toString().startsWith("Runner_")));
    }
    assertTrue(output(loud).matches("(?s).*\\[RUNNER \\S+ \\S+Z INFO Runner\\] Version: .*"));
  }

  @Test
  void versionFlagPrintsTheInstalledVersion() throws Exception {
    SimulatedRunnerDistribution.setVersion(runnerDir, "2.333.1");
    Process version =
        new ProcessBuilder(runnerDir.resolve("bin/Runner.Listener").toString(), "--version")
            .redirectErrorStream(true)
            .start();
    processes.add(version);

    assertEquals(0, awaitExit(version));
    assertEquals(
        "2.333.1",
        new String(version.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip());
  }

  private boolean online(String name) {
    return sim.state()
        .runner(name)
        .map(SimState.RunnerState::status)
        .filter("online"::equals)
        .isPresent();
  }
}
