package dev.microrunner.loop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.handshake.EnvFile;
import dev.microrunner.handshake.HandshakeFile;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent against a fake actions/runner whose scripts record what they were given. */
class AgentTest {

  private static final String USER = System.getProperty("user.name");
  private static final String JIT = "eyJqaXQiOiJmYWtlLWppdC1jb25maWctZm9yLXRoZS1hZ2VudC10ZXN0In0=";
  private static final String TOKEN = "AABBCCDDEEFFGGHHIIJJKKLLMMNNOOPP";

  @TempDir Path work;
  private HostLoopDirectory host;
  private RunnerId id;
  private LoopSecret secret;
  private Path install;
  private Path out;

  @BeforeEach
  void setUp() throws Exception {
    host = HostLoopDirectory.create(work.resolve("loop"), 1);
    id = RunnerId.random(1);
    secret = LoopSecret.generate();
    install = Files.createDirectories(work.resolve("runner"));
    out = Files.createDirectories(work.resolve("out"));
  }

  /**
   * The fake listener, {@code bin/Runner.Listener}: records what it got, then runs {@code body}.
   */
  private void runScript(String body) throws Exception {
    Files.createDirectories(install.resolve("bin"));
    LoopHarness.script(
        install.resolve("bin/Runner.Listener"),
        String.join(
            "\n",
            "echo \"$*\" > \"$OUT/run-args\"",
            "echo \"${ACTIONS_RUNNER_INPUT_JITCONFIG:-none}\" > \"$OUT/run-jit\"",
            "echo \"${ACTIONS_RUNNER_INPUT_TOKEN:-none}\" > \"$OUT/run-token\"",
            "echo \"${ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT:-unset}\" > \"$OUT/run-log-to-stdout\"",
            "pwd > \"$OUT/run-dir\"",
            "[ -e \"$ENV_FILE\" ] && echo yes > \"$OUT/env-visible\"",
            "[ -e \"$TKN_FILE\" ] && echo yes > \"$OUT/tkn-before-run\"",
            body));
  }

  /** Lines as upstream's listener prints them ({@code Runner.cs}, {@code JobDispatcher.cs}). */
  private static String says(String line) {
    return "echo '2026-11-30 12:00:00Z: " + line + "'";
  }

  private static final String LISTENING =
      "echo \"Current runner version: '2.336.0'\"\n" + says("Listening for Jobs");

  private RunnerStatus lastStatus() throws Exception {
    return host.consumeStatus(id).orElseThrow();
  }

  private Map<String, String> env(String mode, String value) {
    Map<String, String> values = new HashMap<>();
    values.put(EnvFile.RUNNER_SECRET, secret.reveal());
    values.put(EnvFile.RUNNER_NAME, "test-" + id);
    values.put(EnvFile.RUNNER_LABELS, "self-hosted,test");
    values.put(EnvFile.RUNNER_GROUP, "Default");
    values.put(EnvFile.RUNNER_URL, "https://github.com/octo/hello");
    values.put(EnvFile.RUNNER_USER, USER);
    values.put(EnvFile.RUNNER_UPDATE, "0");
    values.put(mode, value);
    return values;
  }

  private Agent agent() {
    return agent(AgentConfig.DockerService.OFF, work.resolve("docker.sock"));
  }

  private Agent agent(AgentConfig.DockerService dockerService, Path socket) {
    Path envFile = host.path().resolve(id.fileName(HandshakeFile.ENV));
    Path tokenFile = host.path().resolve(id.fileName(HandshakeFile.TOKEN));
    AgentConfig config =
        AgentConfig.builder(envFile)
            .tokenFile(tokenFile)
            .pollInterval(Duration.ofMillis(50))
            .stopGrace(Duration.ofSeconds(5))
            .dockerService(dockerService)
            .build();
    Map<String, String> environment =
        Map.of(
            "PATH", work.resolve("bin") + ":" + System.getenv("PATH"),
            "OUT", out.toString(),
            "ENV_FILE", envFile.toString(),
            "TKN_FILE", tokenFile.toString(),
            "RUNNER_INSTALL", install.toString());
    return new Agent(config, environment, USER, socket);
  }

  private String recorded(String name) throws Exception {
    return Files.readString(out.resolve(name)).trim();
  }

  @Test
  void jitModeHandsTheConfigToTheListenerThroughItsEnvironmentOnly() throws Exception {
    runScript(
        LISTENING
            + "\nfor i in $(seq 100); do [ -e \"$TKN_FILE\" ] && break; sleep 0.05; done"
            + "\n[ -e \"$TKN_FILE\" ] && echo yes > \"$OUT/tkn-once-listening\""
            + "\nexit 2");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));

    int status = agent().run();

    assertEquals(2, status, "the listener's own status");
    assertEquals(JIT, recorded("run-jit"));
    assertEquals("run", recorded("run-args"), "the config is not on the listener's argv");
    assertEquals("1", recorded("run-log-to-stdout"), "the diagnostic log reaches the console");
    assertFalse(Files.exists(out.resolve("env-visible")), "the .env outlived the agent's read");
    assertFalse(Files.exists(out.resolve("tkn-before-run")), "registered before it listened");
    assertTrue(Files.exists(out.resolve("tkn-once-listening")), "registered once it listened");
    assertFalse(
        Files.readString(host.path().resolve(id.fileName(HandshakeFile.TOKEN))).contains(JIT));
    RunnerStatus ended = lastStatus();
    assertEquals(RunnerStatus.State.ENDED, ended.state());
    assertEquals(Optional.of("2.336.0"), ended.runnerVersion());
    assertEquals(RunnerStatus.Outcome.NO_JOB, ended.ending().orElseThrow().outcome());
    assertEquals(OptionalInt.of(2), ended.ending().orElseThrow().listenerStatus());
  }

  @Test
  void onAHostEachJitRunnerWritesIntoAPrivateCopyOfTheInstallation() throws Exception {
    runScript("echo '{}' > \"$(dirname \"$0\")/../.runner\"\n" + LISTENING + "\nexit 0");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));

    agent().run();

    Path copy = Path.of(recorded("run-dir"));
    assertFalse(copy.equals(install), "ran in the shared installation");
    assertFalse(Files.exists(install.resolve(".runner")), "wrote into the shared installation");
    assertFalse(Files.exists(copy), "the private copy outlived its runner");
  }

  @Test
  void aListenerThatRanItsJobEndsWithJobDone() throws Exception {
    runScript(
        LISTENING
            + "\n"
            + says("Running job: build (ubuntu)")
            + "\n"
            + says("Job build (ubuntu) completed with result: Succeeded")
            + "\nexit 0");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));

    assertEquals(0, agent().run());

    RunnerStatus ended = lastStatus();
    assertEquals(RunnerStatus.Outcome.JOB_DONE, ended.ending().orElseThrow().outcome());
    assertEquals(1, ended.jobsStarted());
    assertEquals(
        new RunnerStatus.Job("build (ubuntu)", Optional.of("Succeeded")),
        ended.job().orElseThrow());
  }

  @Test
  void aRefusedVersionAndAnUpdateRequestAreReportedAsSuch() throws Exception {
    runScript(
        "echo 'An error occurred: Runner version v2.320.0 is deprecated and cannot receive"
            + " messages.' >&2\nexit 7");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    assertEquals(7, agent().run());
    assertEquals(
        RunnerStatus.Outcome.VERSION_REFUSED, lastStatus().ending().orElseThrow().outcome());

    runScript(LISTENING + "\necho 'Runner update in progress, do not shutdown runner.'\nexit 4");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    assertEquals(4, agent().run());
    assertEquals(
        RunnerStatus.Outcome.UPDATE_REQUESTED, lastStatus().ending().orElseThrow().outcome());
  }

  @Test
  void aBusyRunnerStoppedByTheHostCancelsItsJobAndSaysSo() throws Exception {
    runScript(
        LISTENING
            + "\n"
            + says("Running job: long")
            + "\ncancel() {\n"
            + says("Job long completed with result: Canceled")
            + "\nexit 0\n}"
            + "\ntrap cancel TERM"
            + "\nwhile :; do sleep 0.05; done");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    CompletableFuture<Integer> status = runInBackground(agent());
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                host.consumeStatus(id)
                    .filter(s -> s.state() == RunnerStatus.State.BUSY)
                    .isPresent());

    host.requestTermination(id, secret);

    assertEquals(0, status.get(20, java.util.concurrent.TimeUnit.SECONDS));
    RunnerStatus ended = lastStatus();
    assertEquals(RunnerStatus.Outcome.STOPPED, ended.ending().orElseThrow().outcome());
    assertEquals(Optional.of("Canceled"), ended.job().orElseThrow().result());
  }

  @Test
  void tokenModeRunsConfigShWithTheTokenInItsEnvironmentThenTheListener() throws Exception {
    runScript(LISTENING + "\nexit 0");
    LoopHarness.script(
        install.resolve("config.sh"),
        """
        echo "$*" > "$OUT/config-args"
        echo "$ACTIONS_RUNNER_INPUT_TOKEN" > "$OUT/config-token"\
        """);
    host.writeEnv(id, env(EnvFile.RUNNER_TOKEN, TOKEN));

    assertEquals(0, agent().run());

    String args = recorded("config-args");
    assertTrue(
        args.startsWith(
            "--unattended --url https://github.com/octo/hello --name test-"
                + id
                + " --labels self-hosted,test --runnergroup Default --work _work --ephemeral"),
        args);
    assertTrue(args.endsWith("--disableupdate"), args);
    assertFalse(args.contains(TOKEN), "the token on config.sh's argv");
    assertEquals(TOKEN, recorded("config-token"));
    assertEquals("none", recorded("run-token"), "the listener must not see the token");
    assertTrue(host.isRegistered(id));
  }

  @Test
  void aTerminateFileWithTheSecretStopsTheRunnerAndTheAgentEndsWithZero() throws Exception {
    runScript("echo $$ > \"$OUT/pid\"; exec sleep 120");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    CompletableFuture<Integer> status = runInBackground(agent());
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(out.resolve("pid")));

    Path terminate = host.path().resolve(id.fileName(HandshakeFile.TERMINATE));
    Files.writeString(terminate, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(terminate));
    assertFalse(status.isDone(), "a wrong secret stopped the runner");

    host.requestTermination(id, secret);

    assertEquals(0, status.get(20, java.util.concurrent.TimeUnit.SECONDS));
    long pid = Long.parseLong(recorded("pid"));
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    assertFalse(host.consumeBreak(id, secret), "terminated by the host: no break file");
  }

  @Test
  void aSignalWritesTheBreakFileAndStopsTheRunner() throws Exception {
    runScript("echo $$ > \"$OUT/pid\"; exec sleep 120");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    Agent agent = agent();
    CompletableFuture<Integer> status = runInBackground(agent);
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(out.resolve("pid")));

    agent.signalled();

    status.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(host.consumeBreak(id, secret), "no break file holding the secret");
  }

  @Test
  void onlyTheRunnerItselfIsAskedToStopAndWhatItLeavesIsKilled() throws Exception {
    runScript(
        """
        trap 'echo runner >> "$OUT/term"; exit 0' TERM
        sh -c 'trap "echo child >> \\"$OUT/term\\"" TERM; while :; do sleep 0.1; done' &
        echo $! > "$OUT/child"
        while :; do sleep 0.1; done\
        """);
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    CompletableFuture<Integer> status = runInBackground(agent());
    await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(out.resolve("child")));
    long child = Long.parseLong(recorded("child"));

    host.requestTermination(id, secret);

    assertEquals(0, status.get(20, java.util.concurrent.TimeUnit.SECONDS));
    assertEquals("runner", recorded("term"), "SIGTERM to the runner only, as actions/runner needs");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void theRunnersOutputAndErrorsReachTheConsoleLineByLineAsUtf8() throws Exception {
    runScript("echo '\u221a Connected to GitHub'; echo 'a warning' >&2; exit 0");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    Agent agent;
    try {
      System.setOut(new PrintStream(stdout, true, StandardCharsets.ISO_8859_1));
      System.setErr(new PrintStream(stderr, true, StandardCharsets.ISO_8859_1));
      agent = agent();
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }

    assertEquals(0, agent.run());

    // The VM's console is one stream: the runner's errors join its output, in order.
    String console = stdout.toString(StandardCharsets.UTF_8);
    assertTrue(console.contains("\u221a Connected to GitHub\na warning\n"), console);
    assertFalse(
        stderr.toString(StandardCharsets.UTF_8).contains("a warning"),
        stderr.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theDockerSocketIsServedByPodmanWhileTheRunnerRunsAndNoLonger() throws Exception {
    Path bin = Files.createDirectories(work.resolve("bin"));
    LoopHarness.script(
        bin.resolve("podman"),
        """
        echo "$*" > "$OUT/podman-args"
        echo $$ > "$OUT/podman-pid"
        : > "${4#unix://}"
        exec sleep 120\
        """);
    runScript("[ -e \"$OUT/../docker.sock\" ] && echo yes > \"$OUT/socket-during-run\"; exit 0");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));
    Path socket = work.resolve("docker.sock");

    assertEquals(0, agent(AgentConfig.DockerService.ON, socket).run());

    assertEquals("system service --time=0 unix://" + socket, recorded("podman-args"));
    assertTrue(Files.exists(out.resolve("socket-during-run")), "no socket while the runner ran");
    long pid = Long.parseLong(recorded("podman-pid"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void onAHostTheDockerSocketIsLeftAlone() throws Exception {
    Path bin = Files.createDirectories(work.resolve("bin"));
    LoopHarness.script(bin.resolve("podman"), "echo called > \"$OUT/podman-called\"");
    runScript("exit 0");
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));

    assertEquals(0, agent(AgentConfig.DockerService.AUTO, work.resolve("docker.sock")).run());

    assertFalse(Files.exists(out.resolve("podman-called")), "auto started podman outside a VM");
  }

  @Test
  void aMissingRunnerInstallationIsAClearError() throws Exception {
    host.writeEnv(id, env(EnvFile.RUNNER_JITCONFIG, JIT));

    AgentException error = assertThrows(AgentException.class, () -> agent().run());

    assertTrue(error.getMessage().contains("RUNNER_INSTALL"), error.getMessage());
    assertFalse(error.getMessage().contains(JIT));
  }

  @Test
  void onlyARootRunnerIsAllowedToRunAsRoot() throws Exception {
    runScript("echo \"${RUNNER_ALLOW_RUNASROOT:-unset}\" > \"$OUT/allow-root\"");
    Map<String, String> values = env(EnvFile.RUNNER_JITCONFIG, JIT);
    values.put(EnvFile.RUNNER_USER, "builder");
    host.writeEnv(id, values);
    Agent asBuilder =
        new Agent(
            AgentConfig.builder(host.path().resolve(id.fileName(HandshakeFile.ENV))).build(),
            Map.of(
                "PATH", System.getenv("PATH"),
                "OUT", out.toString(),
                "RUNNER_INSTALL", install.toString(),
                "RUNNER_ALLOW_RUNASROOT", "1"),
            "builder");

    assertEquals(0, asBuilder.run());
    assertEquals("unset", recorded("allow-root"), "inherited by a runner that is not root");

    values.put(EnvFile.RUNNER_USER, "root");
    host.writeEnv(id, values);
    Agent asRoot =
        new Agent(
            AgentConfig.builder(host.path().resolve(id.fileName(HandshakeFile.ENV))).build(),
            Map.of(
                "PATH", System.getenv("PATH"),
                "OUT", out.toString(),
                "RUNNER_INSTALL", install.toString()),
            "root");

    assertEquals(0, asRoot.run());
    assertEquals("1", recorded("allow-root"));
  }

  @Test
  void anotherUserNeedsRoot() throws Exception {
    runScript("exit 0");
    Map<String, String> values = env(EnvFile.RUNNER_JITCONFIG, JIT);
    values.put(EnvFile.RUNNER_USER, "someone-else");
    host.writeEnv(id, values);
    Agent agent =
        new Agent(
            AgentConfig.builder(host.path().resolve(id.fileName(HandshakeFile.ENV))).build(),
            Map.of("PATH", System.getenv("PATH"), "RUNNER_INSTALL", install.toString()),
            "not-root");

    AgentException error = assertThrows(AgentException.class, agent::run);

    assertTrue(error.getMessage().contains("someone-else"), error.getMessage());
  }

  private static CompletableFuture<Integer> runInBackground(Agent agent) {
    CompletableFuture<Integer> status = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                status.complete(agent.run());
              } catch (Exception e) {
                status.completeExceptionally(e);
              }
            });
    thread.setDaemon(true);
    thread.start();
    return status;
  }
}
