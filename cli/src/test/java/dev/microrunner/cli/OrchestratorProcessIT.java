package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.microrunner.github.sim.Fault;
import dev.microrunner.github.sim.SimState;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built CLI as a real process: signals, crash recovery, secrets. */
class OrchestratorProcessIT {

  /** A simulator JIT config is base64 JSON: it starts with {@code eyJ}. */
  private static final Pattern JIT_CONFIG = Pattern.compile("eyJ[A-Za-z0-9+/=]{40,}");

  @TempDir Path work;
  private CliProcess cli;
  private final List<Process> started = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    cli = new CliProcess(work);
  }

  @AfterEach
  void stop() {
    for (Process process : started) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
    cli.sim.close();
  }

  private Process orchestrator(String prefix, int loops, String... runnerOptions)
      throws IOException {
    Process process = cli.orchestrator(prefix, loops, runnerOptions);
    started.add(process);
    return process;
  }

  @Test
  void sigtermWhileRunnersAreBusyCleansUpEverythingAndExitsZero() throws Exception {
    cli.enqueueJobs(2, Duration.ofMinutes(10));
    Process orchestrator = orchestrator("sigterm", 2);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> cli.sim.state().runningJobs() == 2 || !orchestrator.isAlive());
    assertTrue(orchestrator.isAlive(), () -> "ended early: " + output("sigterm"));
    List<ProcessHandle> children = orchestrator.descendants().toList();
    assertFalse(children.isEmpty());

    assertNoSecretInArgvOrChildEnvironment(orchestrator);

    long signalled = System.nanoTime();
    orchestrator.destroy(); // SIGTERM
    assertTrue(orchestrator.waitFor(10 + 5, TimeUnit.SECONDS), "not ended within grace + 5 s");
    Duration took = Duration.ofNanos(System.nanoTime() - signalled);

    assertEquals(0, orchestrator.exitValue(), () -> output("sigterm"));
    assertTrue(took.compareTo(Duration.ofSeconds(15)) < 0, "took " + took);
    for (ProcessHandle child : children) {
      await().atMost(Duration.ofSeconds(5)).until(() -> !child.isAlive());
    }
    assertFalse(Files.exists(cli.baseDirectory("sigterm")), "loop directories left behind");
    assertEquals(List.of(), cli.sim.state().runners(), "registrations left at the simulator");
    for (SimState.JobState job : cli.sim.state().jobs()) {
      assertEquals("completed", job.status(), () -> "killed, not cancelled: " + job);
      assertEquals(Optional.of("Canceled"), job.result(), job::toString);
    }
    String console = cli.read("sigterm.log") + cli.read("sigterm.out");
    assertNoSecretIn(console);
    assertTrue(
        Pattern.compile("\\[\\d+-\\w+\\] \\[RUNNER \\S+ \\S+Z INFO ").matcher(console).find(),
        "the runner's diagnostic log does not reach the console with the runner id");
  }

  @Test
  void aCrashRightAfterAJitRequestLeavesNothingAtGitHubAfterTheRestart() throws Exception {
    // Each API call takes 4 s, half of it after GitHub acted: the orchestrator dies between a
    // JIT registration's creation and its answer.
    cli.sim.injectFault(Fault.latency(Duration.ofSeconds(4)));
    Process crashed = orchestrator("inflight", 2);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !cli.sim.state().runners().isEmpty() || !crashed.isAlive());
    crashed.destroyForcibly(); // kill -9 before GitHub answered
    crashed.waitFor();
    cli.sim.clearFaults();
    assertTrue(
        journalNames(work.resolve("state"), "inflight")
            .containsAll(cli.sim.state().runners().stream().map(r -> r.name()).toList()),
        "a registration GitHub made is missing from the journal");

    Process recovering = orchestrator("inflight", 1, "-r", "0");
    assertTrue(recovering.waitFor(60, TimeUnit.SECONDS));

    assertEquals(0, recovering.exitValue(), () -> output("inflight"));
    assertEquals(List.of(), cli.sim.state().runners(), () -> output("inflight"));
  }

  /** The runner names in the journals of instances with this prefix. */
  private static List<String> journalNames(Path stateDirectory, String prefix) throws IOException {
    List<String> names = new ArrayList<>();
    if (!Files.isDirectory(stateDirectory)) {
      return names;
    }
    try (var files = Files.newDirectoryStream(stateDirectory, prefix + "-*.state.json")) {
      for (Path file : files) {
        try {
          new ObjectMapper()
              .readTree(file.toFile())
              .path("registrations")
              .fieldNames()
              .forEachRemaining(names::add);
        } catch (IOException e) {
          // Being rewritten right now: look again at the next poll.
        }
      }
    }
    return names;
  }

  @Test
  void aNewInstanceRemovesWhatAKilledOneLeftButNotWhatOtherPrefixesOwn() throws Exception {
    // No job: the runner idles online. (A runner killed in the middle of a job stays busy at
    // GitHub, which refuses to delete it until it times the job out; recovery then keeps the
    // state file and tries again at the next start.)
    Process crashed = orchestrator("crash", 1);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                cli.sim.state().runners().stream().anyMatch(r -> r.status().equals("online"))
                    || !crashed.isAlive());
    assertTrue(crashed.isAlive(), () -> "ended early: " + output("crash"));
    List<ProcessHandle> orphans = crashed.descendants().toList();
    assertFalse(orphans.isEmpty());
    crashed.destroyForcibly(); // kill -9: no clean-up at all
    crashed.waitFor();
    assertTrue(orphans.stream().anyMatch(ProcessHandle::isAlive), "nothing was orphaned");
    // The busy runner, and the next runner's registration prepared while it ran.
    int leftBehind = cli.sim.state().runners().size();
    assertTrue(leftBehind >= 1);

    // Another prefix on the same host must leave them alone.
    Process other = orchestrator("other", 1, "-r", "0");
    assertTrue(other.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, other.exitValue(), () -> output("other"));
    assertTrue(orphans.stream().anyMatch(ProcessHandle::isAlive), "another prefix removed them");
    assertEquals(leftBehind, cli.sim.state().runners().size());

    Process recovering = orchestrator("crash", 1, "-r", "0");
    assertTrue(recovering.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, recovering.exitValue(), () -> output("crash"));
    for (ProcessHandle orphan : orphans) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !orphan.isAlive());
    }
    assertEquals(List.of(), cli.sim.state().runners(), "the dead instance's registration is left");
    assertFalse(Files.exists(cli.baseDirectory("crash")), "the dead instance's directory is left");
  }

  @Test
  void aSecondSignalSkipsTheGracePeriodButStillCleansUp() throws Exception {
    // A guest that registers, then ignores both .trm and SIGTERM.
    Path stubborn = work.resolve("stubborn");
    Files.writeString(
        stubborn,
        "#!/bin/sh\ntrap '' TERM INT\necho registered > \"$4\"\nwhile :; do sleep 0.2; done\n");
    Files.setPosixFilePermissions(
        stubborn, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Process orchestrator =
        orchestrator("twice", 1, "--entrypoint", stubborn.toString(), "--grace", "120");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> !orchestrator.isAlive() || cli.read("twice.log").contains("registered JIT"));
    await().atMost(Duration.ofSeconds(30)).until(() -> orchestrator.descendants().count() > 0);
    List<ProcessHandle> children = orchestrator.descendants().toList();

    orchestrator.destroy(); // SIGTERM: .trm, then a grace period of 120 s
    await().atMost(Duration.ofSeconds(30)).until(() -> cli.read("twice.log").contains("asking"));
    assertTrue(orchestrator.isAlive(), "did not wait for the grace period");
    orchestrator.destroy(); // the second SIGTERM cuts it short

    assertTrue(orchestrator.waitFor(20, TimeUnit.SECONDS), "the second signal did not end it");
    assertEquals(0, orchestrator.exitValue(), () -> output("twice"));
    for (ProcessHandle child : children) {
      await().atMost(Duration.ofSeconds(5)).until(() -> !child.isAlive());
    }
    assertEquals(List.of(), cli.sim.state().runners(), "registrations left at the simulator");
    assertFalse(Files.exists(cli.baseDirectory("twice")), "loop directories left behind");
  }

  private void assertNoSecretInArgvOrChildEnvironment(Process orchestrator) throws Exception {
    Process ps = new ProcessBuilder("ps", "-eo", "args").redirectErrorStream(true).start();
    String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    ps.waitFor();
    assertTrue(table.contains("orchestrator"), "ps shows no orchestrator: " + table);
    assertNoSecretIn(table);
    for (ProcessHandle child : orchestrator.descendants().toList()) {
      Path environ = Path.of("/proc", String.valueOf(child.pid()), "environ");
      String environment;
      try {
        environment = new String(Files.readAllBytes(environ), StandardCharsets.UTF_8);
      } catch (IOException gone) {
        continue;
      }
      assertFalse(environment.contains(CliProcess.PAT), "PAT in the environment of " + child);
      assertFalse(environment.contains(CliProcess.SECRET), "secret in the environment of " + child);
    }
  }

  private static void assertNoSecretIn(String text) {
    assertFalse(text.contains(CliProcess.PAT), "the PAT leaked");
    assertFalse(text.contains(CliProcess.SECRET), "the loop secret leaked");
    assertFalse(JIT_CONFIG.matcher(text).find(), "a JIT config leaked");
  }

  private String output(String prefix) {
    try {
      return cli.read(prefix + ".out") + cli.read(prefix + ".log");
    } catch (IOException e) {
      return e.toString();
    }
  }
}
