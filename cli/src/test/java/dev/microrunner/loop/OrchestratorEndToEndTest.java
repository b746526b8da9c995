package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.sim.SimState;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.Registered;
import dev.microrunner.loop.LoopEvent.RegistrationRemoved;
import dev.microrunner.loop.LoopEvent.VmExited;
import dev.microrunner.loop.LoopEvent.VmStarted;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole loop with real processes: simulator, process runtime, agent, simulated runner. */
class OrchestratorEndToEndTest {

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

  /** The same with three loops of two runners, through the command line, is DemoIT's. */
  @Test
  void twoLoopsOfTwoRunnersTakeFourJobsAndLeaveNoRegistration() throws Exception {
    harness.enqueueJobs(4, Duration.ofMillis(200));
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().repeat(2).build()).loops(2).build());

    Orchestrator.Result result = orchestrator.run();

    assertEquals(
        List.of(EndReason.COMPLETED, EndReason.COMPLETED),
        result.loops().stream().map(Ended::reason).toList());
    assertEquals(4, result.runners());
    SimState state = harness.sim.state();
    assertEquals(4, state.finishedJobs(), () -> "jobs: " + state.jobs());
    assertTrue(
        state.jobs().stream().allMatch(job -> job.result().equals(Optional.of("Succeeded"))),
        () -> "jobs: " + state.jobs());
    assertEquals(List.of(), state.runners(), "registrations left at the simulator");
    List<VmExited> exits = harness.events(VmExited.class);
    assertEquals(4, exits.size());
    assertTrue(exits.stream().allMatch(e -> e.exitStatus().equals(OptionalInt.of(0))), "" + exits);
    assertEquals(4, harness.events(RegistrationRemoved.class).size());
    assertFalse(Files.exists(work.resolve("base")), "base directory left behind");
    try (var stateFiles = Files.list(work.resolve("state"))) {
      assertEquals(
          List.of(), stateFiles.filter(f -> f.toString().endsWith(".state.json")).toList());
    }
  }

  @Test
  void tokenRegistrationRunsConfigShInTheGuestAndStillLeavesNoRegistration() throws Exception {
    harness.enqueueJobs(2, Duration.ofMillis(100));
    RunnerConfig runner = harness.runner().registration(RegistrationMode.TOKEN).repeat(2).build();

    Orchestrator.Result result =
        assertTimeoutPreemptively(
            Duration.ofSeconds(90), harness.build(harness.orchestrator(runner).build())::run);

    assertEquals(EndReason.COMPLETED, result.loops().get(0).reason());
    SimState state = harness.sim.state();
    assertEquals(2, state.finishedJobs(), () -> "jobs: " + state.jobs());
    assertEquals(List.of(), state.runners(), "registrations left at the simulator");
  }

  @Test
  void aLoopStartsOnceThePreviousLoopRegistered() throws Exception {
    harness.enqueueJobs(2, Duration.ofMillis(100));
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().repeat(1).build()).loops(2).build());

    orchestrator.run();

    List<LoopEvent> events = List.copyOf(harness.events);
    LoopEvent firstRegistered =
        events.stream()
            .filter(e -> e instanceof Registered && e.loop() == 1)
            .findFirst()
            .orElseThrow();
    LoopEvent secondStarted =
        events.stream()
            .filter(e -> e instanceof VmStarted && e.loop() == 2)
            .findFirst()
            .orElseThrow();
    assertTrue(secondStarted.nanoTime() > firstRegistered.nanoTime(), "" + events);
  }
}
