package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.Registered;
import dev.microrunner.loop.LoopEvent.VmExited;
import dev.microrunner.loop.LoopEvent.VmStarted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How a loop ends: a break file, its lifetime, a stop request; and what a hostile guest cannot do.
 * Guests are shell scripts run by the process runtime, or the real agent.
 */
class LoopEndingTest {

  /**
   * A guest that registers at once (sources the .env as a POSIX shell would: the format allows it)
   * and then leaves a break file according to $MODE.
   */
  private static final String BREAKING_GUEST =
      """
      env=$2; tkn=$4; dir=$(dirname "$tkn"); id=$(basename "$tkn" .tkn)
      . "$env"; rm -f "$env"
      echo registered > "$tkn"
      case "$MODE" in
        secret) printf '%s' "$RUNNER_SECRET" > "$dir/$id.brk" ;;
        wrong) printf '%s' 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' > "$dir/$id.brk" ;;
        fifo) mkfifo "$dir/$id.brk" ;;
        symlink) printf '%s' "$RUNNER_SECRET" > "$dir/copy"; ln -sf "$dir/copy" "$dir/$id.brk" ;;
      esac
      exit 0\
      """;

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

  private Orchestrator.Result runGuest(String mode, int repeat) throws Exception {
    Path guest = LoopHarness.script(work.resolve("guest"), BREAKING_GUEST);
    RunnerConfig runner =
        harness
            .runner()
            .vm(vm -> vm.entrypoint(guest.toString()).environment(Map.of("MODE", mode)))
            .repeat(repeat)
            .build();
    Orchestrator orchestrator = harness.build(harness.orchestrator(runner).build());
    return assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);
  }

  @Test
  void aBreakFileHoldingTheSecretEndsTheLoopAfterThatVm() throws Exception {
    Orchestrator.Result result = runGuest("secret", 3);

    Ended outcome = result.loops().get(0);
    assertEquals(EndReason.BREAK, outcome.reason());
    assertEquals(1, harness.events(VmStarted.class).size());
    assertEquals(List.of(), harness.sim.state().runners(), "registration left at the simulator");
  }

  @ParameterizedTest
  @ValueSource(strings = {"wrong", "fifo", "symlink"})
  void aBreakFileWithoutTheSecretDoesNotEndTheLoopNorHangIt(String mode) throws Exception {
    Orchestrator.Result result = runGuest(mode, 2);

    Ended outcome = result.loops().get(0);
    assertEquals(EndReason.COMPLETED, outcome.reason(), mode);
    assertEquals(2, harness.events(VmStarted.class).size());
    assertEquals(List.of(), harness.sim.state().runners(), "registration left at the simulator");
    assertFalse(Files.exists(work.resolve("base")), "base directory left behind");
  }

  @Test
  void theLifetimeEndsTheLoopThroughTheTerminateFileAndTheAgentStopsItsRunner() throws Exception {
    // No job queued: the simulated runner waits until the agent stops it on .trm. The lifetime
    // runs out once the runner registered, however long the agent's JVM took to start; the long
    // grace period keeps a stop through .trm far apart from a forced stop after the grace period.
    SkippingTime time = new SkippingTime();
    RunnerConfig runner =
        harness
            .runner()
            .lifetime(Optional.of(Duration.ofHours(1)))
            .grace(Duration.ofSeconds(30))
            .build();
    Orchestrator orchestrator = harness.build(harness.orchestrator(runner).build(), time);
    Thread clock =
        new Thread(
            () -> {
              Awaitility.await()
                  .atMost(Duration.ofSeconds(60))
                  .until(() -> !harness.events(Registered.class).isEmpty());
              time.advance(Duration.ofHours(1));
            });
    clock.start();

    long start = System.nanoTime();
    Orchestrator.Result result =
        assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    clock.join();

    assertEquals(EndReason.LIFETIME, result.loops().get(0).reason());
    assertEquals(1, harness.events(Registered.class).size());
    List<VmExited> exits = harness.events(VmExited.class);
    assertEquals(OptionalInt.of(0), exits.get(0).exitStatus(), "the agent ends cleanly on .trm");
    assertTrue(took.compareTo(Duration.ofSeconds(25)) < 0, "took " + took + ", grace is 30 s");
    assertEquals(List.of(), harness.sim.state().runners(), "registration left at the simulator");
  }

  @Test
  void aGuestThatIgnoresTheTerminateFileIsStoppedAfterTheGracePeriod() throws Exception {
    Path pidFile = work.resolve("guest.pid");
    Path guest =
        LoopHarness.script(
            work.resolve("stubborn"),
            """
            trap '' TERM INT
            echo $$ > "$PID_FILE"
            echo registered > "$4"
            while :; do sleep 0.2; done\
            """);
    RunnerConfig runner =
        harness
            .runner()
            .vm(
                vm ->
                    vm.entrypoint(guest.toString())
                        .environment(Map.of("PID_FILE", pidFile.toString())))
            .lifetime(Optional.of(Duration.ofSeconds(1)))
            .grace(Duration.ofSeconds(1))
            .build();
    Orchestrator orchestrator = harness.build(harness.orchestrator(runner).build());

    Orchestrator.Result result =
        assertTimeoutPreemptively(Duration.ofSeconds(30), orchestrator::run);

    assertEquals(EndReason.LIFETIME, result.loops().get(0).reason());
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    assertFalse(
        ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "guest still running");
    assertEquals(List.of(), harness.sim.state().runners(), "registration left at the simulator");
  }

  @Test
  void stopEndsBusyLoopsAndRemovesTheirRegistrations() throws Exception {
    harness.enqueueJobs(2, Duration.ofMinutes(5));
    Orchestrator orchestrator =
        harness.build(
            harness.orchestrator(harness.runner().build()).loops(2).parallelStart(2).build());
    Thread stopper =
        new Thread(
            () -> {
              Awaitility.await()
                  .atMost(Duration.ofSeconds(60))
                  .until(() -> harness.sim.state().runningJobs() == 2);
              orchestrator.stop(false);
            });
    stopper.start();

    Orchestrator.Result result =
        assertTimeoutPreemptively(Duration.ofSeconds(90), orchestrator::run);
    stopper.join();

    assertEquals(
        List.of(EndReason.STOPPED, EndReason.STOPPED),
        result.loops().stream().map(Ended::reason).toList());
    assertEquals(List.of(), harness.sim.state().runners(), "registration left at the simulator");
    assertFalse(Files.exists(work.resolve("base")), "base directory left behind");
  }
}
