package dev.microrunner.loop;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.LoopEvent.BackingOff;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.RunnerStateChanged;
import dev.microrunner.loop.LoopEvent.VmStarted;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How runners end, against the simulated runner that behaves as actions/runner v2.336.0 does
 * (graceful cancel within its time, true exit statuses, version refusals, updates): stops cancel
 * busy jobs, failing listeners back off and are not counted, a refused version ends the loop with
 * one clear error, and what a guest reports changes only its own loop.
 */
class RunnerOutcomeIT {

  private static final Duration CANCEL_TIME = Duration.ofSeconds(1);

  @TempDir Path work;
  private LoopHarness harness;

  @BeforeEach
  void start() throws Exception {
    harness = LoopHarness.start(work);
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private void enqueueLongJob(String name) {
    harness.sim.enqueueJob(
        new SimJob(name, LoopHarness.LABELS, Duration.ofMinutes(10), CANCEL_TIME));
  }

  private CompletableFuture<Orchestrator.Result> runInBackground(Orchestrator orchestrator) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return orchestrator.run();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
  }

  private SimState.JobState job(String name) {
    return harness.sim.state().jobs().stream()
        .filter(job -> job.name().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private void awaitBusy() {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                harness.events(RunnerStateChanged.class).stream()
                    .anyMatch(e -> e.state() == RunnerStatus.State.BUSY));
  }

  private void assertCancelledNotKilled(String name) {
    SimState.JobState job = job(name);
    assertEquals("completed", job.status(), () -> "killed, not cancelled: " + job);
    assertEquals(Optional.of("Canceled"), job.result(), job::toString);
    assertEquals(List.of(), harness.sim.state().runners(), "a registration was left at GitHub");
  }

  @Test
  void aBusyRunnerStoppedThroughItsTerminateFileReportsItsJobCancelled() throws Exception {
    enqueueLongJob("long");
    Orchestrator orchestrator =
        harness.build(
            harness.orchestrator(harness.runner().grace(Duration.ofSeconds(45)).build()).build());
    CompletableFuture<Orchestrator.Result> result = runInBackground(orchestrator);
    awaitBusy();

    orchestrator.stop(false);
    result.get(60, TimeUnit.SECONDS);

    assertCancelledNotKilled("long");
    Instant terminateSent =
        harness.events(RunnerStateChanged.class).stream()
            .filter(e -> e.state() == RunnerStatus.State.STOPPING)
            .findFirst()
            .orElseThrow()
            .time();
    Duration toCancelled = Duration.between(terminateSent, job("long").finishedAt().orElseThrow());
    System.out.println(
        "FIGURE .trm to job reported cancelled: "
            + toCancelled.toMillis()
            + " ms (the job's cancel time "
            + CANCEL_TIME.toMillis()
            + " ms)");
    assertTrue(toCancelled.compareTo(CANCEL_TIME) >= 0, toCancelled::toString);
  }

  /**
   * A process's argv from /proc, NUL-separated: ProcessHandle.Info drops the arguments of command
   * lines as long as a test class path makes them.
   */
  private static String argv(ProcessHandle process) {
    try {
      return new String(
          Files.readAllBytes(Path.of("/proc", String.valueOf(process.pid()), "cmdline")),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      return ""; // ended meanwhile
    }
  }

  @Test
  void aBusyRunnerWhoseVmIsSignalledReportsItsJobCancelledAndEndsItsLoop() throws Exception {
    enqueueLongJob("long");
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().build()).build());
    CompletableFuture<Orchestrator.Result> result = runInBackground(orchestrator);
    awaitBusy();
    ProcessHandle agent =
        ProcessHandle.current()
            .descendants()
            .filter(p -> argv(p).contains("dev.microrunner.cli.Main\0agent"))
            .findFirst()
            .orElseThrow();

    agent.destroy(); // SIGTERM to the VM's entrypoint, as a VM stop sends it

    Orchestrator.Result ended = result.get(60, TimeUnit.SECONDS);
    assertEquals(EndReason.BREAK, ended.loops().get(0).reason(), "the agent's .brk ends the loop");
    assertCancelledNotKilled("long");
  }

  /** A copy of the simulated distribution whose listener listens, then exits with 1. */
  private Path failingDistribution() throws IOException {
    Path failing = work.resolve("failing-runner");
    SimulatedRunnerDistribution.write(
        failing, Path.of("/unused.jar"), "dev.microrunner.cli.SimulatedRunnerMain");
    LoopHarness.script(
        failing.resolve("bin/Runner.Listener"),
        """
        echo "Current runner version: '2.336.0'"
        echo "$(date -u '+%Y-%m-%d %H:%M:%SZ'): Listening for Jobs"
        echo 'An error occurred: Runner not found' >&2
        exit 1\
        """);
    return failing;
  }

  @Test
  void aListenerThatExitsRightAfterRegisteringBacksOffAndServesNobody() throws Exception {
    Path failing = failingDistribution();
    RunnerConfig runner =
        harness
            .runner()
            .vm(vm -> vm.environment(Map.of("RUNNER_INSTALL", failing.toString())))
            .repeat(2)
            .lifetime(Optional.of(Duration.ofSeconds(20)))
            .backoff(Backoff.DEFAULT)
            .build();
    Orchestrator orchestrator = harness.build(harness.orchestrator(runner).build());

    Orchestrator.Result result = orchestrator.run();

    Ended ended = result.loops().get(0);
    assertEquals(EndReason.LIFETIME, ended.reason(), "-r 2 counted runners that served nobody");
    assertEquals(0, ended.runners());
    long starts = harness.events(VmStarted.class).size();
    System.out.println("FIGURE VM starts in 20 s with a failing listener: " + starts);
    assertTrue(starts <= 5, "spinning: " + starts + " VM starts in 20 s");
    List<String> reasons =
        harness.events(BackingOff.class).stream().map(BackingOff::reason).toList();
    assertTrue(!reasons.isEmpty());
    for (String reason : reasons) {
      assertTrue(reason.contains("ended without a job"), reason);
      assertTrue(reason.contains("status 1 (terminated"), reason);
    }
  }

  /**
   * Runners whose installation the host cannot see (the agent is told where it is), so that only
   * the runners themselves learn what GitHub thinks of their version, as with an image without the
   * version label.
   */
  private RunnerConfig runnersOfUnknownVersion() {
    return harness
        .runner()
        .vm(
            vm ->
                vm.args("--runner-install", harness.distribution.toString())
                    .environment(
                        Map.of("RUNNER_INSTALL", work.resolve("not-the-installation").toString())))
        .build();
  }

  @Test
  void aRunnerVersionThatGitHubNoLongerAcceptsIsRefusedBeforeAnyVmStarts() throws Exception {
    SimulatedRunnerDistribution.setVersion(harness.distribution, "2.320.0");
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().build()).build());

    RunnerVersionException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            RunnerVersionException.class, orchestrator::run);

    assertTrue(refused.getMessage().contains("actions/runner 2.320.0"), refused.getMessage());
    assertTrue(refused.getMessage().contains("microrunner image build"), refused.getMessage());
    assertEquals(List.of(), harness.events(VmStarted.class));
    assertEquals(List.of(), harness.sim.state().runners());
  }

  @Test
  void aRefusedRunnerVersionEndsTheLoopWithOneClearError() throws Exception {
    SimulatedRunnerDistribution.setVersion(harness.distribution, "2.320.0");
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(runnersOfUnknownVersion()).build());

    Orchestrator.Result result = orchestrator.run();

    Ended ended = result.loops().get(0);
    assertEquals(EndReason.RUNNER_VERSION, ended.reason());
    String message = ended.failure().orElseThrow().getMessage();
    assertTrue(message.contains("2.320.0"), message);
    assertTrue(message.contains("microrunner image build"), message);
    assertEquals(1, harness.events(VmStarted.class).size(), "it tried again");
    assertEquals(List.of(), harness.sim.state().runners());
  }

  @Test
  void anUpdateRequestEndsTheLoopInsteadOfUpdatingInEveryVm() throws Exception {
    // Behind, but within GitHub's 30 days: the start only warns; the first runner is told to
    // update itself.
    SimulatedRunnerDistribution.setVersion(harness.distribution, "2.335.0");
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().build()).build());

    Orchestrator.Result result = orchestrator.run();

    Ended ended = result.loops().get(0);
    assertEquals(EndReason.RUNNER_VERSION, ended.reason());
    String message = ended.failure().orElseThrow().getMessage();
    assertTrue(message.contains("2.335.0") && message.contains("update itself"), message);
    assertEquals(1, harness.events(VmStarted.class).size());
  }

  @Test
  void aForgedStatusEndsOnlyItsOwnLoop() throws Exception {
    // Loop 1's guest forges "version refused"; loop 2 runs the real agent and serves a job.
    Path guest =
        LoopHarness.script(
            work.resolve("forging-guest"),
            """
            case "$(basename "$2")" in
              1-*)
                dir=$(dirname "$2"); id=$(basename "$2" .env); rm -f "$2"
                printf "STATE='garbage'\\n" > "$dir/$id.sta"
                echo registered > "$dir/$id.tkn"
                sleep 0.3
                printf "STATE='ended'\\nOUTCOME='version_refused'\\nDETAIL='forged'\\n" \
                  > "$dir/$id.sta"
                exit 0 ;;
              *) exec "$AGENT" "$@" ;;
            esac\
            """);
    harness.enqueueJobs(1, Duration.ZERO);
    RunnerConfig runner =
        harness
            .runner()
            .vm(
                vm ->
                    vm.entrypoint(guest.toString())
                        .environment(
                            Map.of(
                                "RUNNER_INSTALL",
                                harness.distribution.toString(),
                                "AGENT",
                                harness.agent.toString())))
            .repeat(1)
            .build();
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(runner).loops(2).parallelStart(2).build());

    Orchestrator.Result result = orchestrator.run();

    Ended first = result.loops().stream().filter(l -> l.loop() == 1).findFirst().orElseThrow();
    Ended second = result.loops().stream().filter(l -> l.loop() == 2).findFirst().orElseThrow();
    assertEquals(EndReason.RUNNER_VERSION, first.reason(), "the forging loop ends itself");
    assertEquals(EndReason.COMPLETED, second.reason(), "the other loop went on");
    assertEquals(1, second.runners());
    assertEquals("completed", job("job-1").status());
  }
}
