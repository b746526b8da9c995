package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubAuthenticationException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.RetryPolicy;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.Fault;
import dev.microrunner.loop.LoopEvent.BackingOff;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Registered;
import dev.microrunner.loop.LoopEvent.Started;
import dev.microrunner.loop.LoopEvent.VmStarted;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up ordering, back-off and refused credentials, with real processes. */
class OrchestratorStartupTest {

  /** Loop 1's guests never register; the others register and idle until told to stop. */
  private static final String LOOP_ONE_NEVER_REGISTERS =
      """
      trap 'exit 0' TERM
      case "$(basename "$2")" in
        1-*) ;;
        *) echo registered > "$4" ;;
      esac
      while [ ! -e "${4%.tkn}.trm" ]; do sleep 0.1; done\
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

  @Test
  void aLoopThatNeverRegistersHoldsTheNextOnlyUntilTheStartTimeout() throws Exception {
    Path guest = LoopHarness.script(work.resolve("guest"), LOOP_ONE_NEVER_REGISTERS);
    RunnerConfig runner =
        harness
            .runner()
            .vm(vm -> vm.entrypoint(guest.toString()))
            .grace(Duration.ofSeconds(5))
            .build();
    SkippingTime time = new SkippingTime();
    Orchestrator orchestrator =
        harness.build(
            harness.orchestrator(runner).loops(2).startTimeout(Duration.ofSeconds(2)).build(),
            time);
    Thread stopper =
        new Thread(
            () -> {
              Awaitility.await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> !harness.events(Registered.class).isEmpty());
              orchestrator.stop(false);
            });
    stopper.start();

    assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);
    stopper.join();

    List<Registered> registered = harness.events(Registered.class);
    assertEquals(2, registered.get(0).loop());
    // The orchestrator waited for loop 1 once, for what was left of the 2 s start timeout.
    List<Duration> waits = time.skipped();
    assertEquals(1, waits.size(), "" + waits);
    Duration held = waits.get(0);
    assertTrue(
        held.compareTo(Duration.ofMillis(1500)) > 0 && held.compareTo(Duration.ofSeconds(2)) <= 0,
        "loop 2 was held " + held + " for loop 1; the start timeout is 2 s");
    assertEquals(List.of(), harness.sim.state().runners());
  }

  @Test
  void withoutIsolationLoopsShareOneDirectoryAndStartTheSleepApart() throws Exception {
    harness.enqueueJobs(2, Duration.ofMillis(100));
    RunnerConfig runner = harness.runner().repeat(1).build();
    SkippingTime time = new SkippingTime();
    Orchestrator orchestrator =
        harness.build(
            harness
                .orchestrator(runner)
                .loops(2)
                .isolation(false)
                .isolationOffDelay(Duration.ofSeconds(1))
                .build(),
            time);

    Orchestrator.Result result =
        assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);

    assertEquals(2, result.runners());
    assertEquals(2, harness.sim.state().finishedJobs());
    assertEquals(2, harness.events(Started.class).size());
    assertEquals(List.of(Duration.ofSeconds(1)), time.skipped(), "the pause between loop starts");
    assertEquals(List.of(), harness.sim.state().runners());
    assertTrue(java.nio.file.Files.notExists(work.resolve("base")), "base directory left behind");
  }

  @Test
  void vmsThatExitBeforeRegisteringBackOffExponentially() throws Exception {
    Path guest = LoopHarness.script(work.resolve("failing"), "exit 3");
    RunnerConfig runner =
        harness
            .runner()
            .vm(vm -> vm.entrypoint(guest.toString()))
            .backoff(new Backoff(Duration.ofMillis(200), Duration.ofMillis(800)))
            .lifetime(Optional.of(Duration.ofSeconds(5)))
            .build();

    Orchestrator.Result result =
        assertTimeoutPreemptively(
            Duration.ofSeconds(60),
            harness.build(harness.orchestrator(runner).build(), new SkippingTime())::run);

    assertEquals(EndReason.LIFETIME, result.loops().get(0).reason());
    List<BackingOff> backOffs = harness.events(BackingOff.class);
    List<Long> delays = backOffs.stream().map(e -> e.delay().toMillis()).toList();
    // 200, 400, 800 ms, then 800 ms each until the 5 s lifetime ends the loop.
    assertTrue(delays.size() >= 4, "" + delays);
    assertEquals(List.of(200L, 400L, 800L, 800L), delays.subList(0, 4));
    assertTrue(delays.stream().allMatch(d -> d <= 800), "" + delays);
    assertEquals(
        List.of(1, 2, 3, 4),
        backOffs.stream().map(BackingOff::failuresInARow).toList().subList(0, 4));
    assertTrue(
        backOffs.get(0).reason().contains("exited before registering (status 3)"),
        backOffs.get(0).reason());
    int starts = harness.events(VmStarted.class).size();
    assertTrue(starts <= delays.size() + 1, starts + " VMs for " + delays.size() + " back-offs");
    assertEquals(List.of(), harness.sim.state().runners(), "unused registrations left behind");
  }

  @Test
  void gitHubOutagesBackOffAndTheLoopCarriesOnAfterwards() throws Exception {
    harness.enqueueJobs(1, Duration.ofMillis(100));
    // The first 503 answers the runner version check at start, which only warns; the next three
    // answer JIT requests.
    harness.sim.injectFault(Fault.serverError(4, 503));
    RunnerConfig runner =
        harness
            .runner()
            .repeat(1)
            .backoff(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)))
            .build();
    // One try per call, so that each 503 reaches the loop.
    try (GitHubRunnerClient github =
        GitHubRunnerClient.builder(runner.target(), runner.scope(), runner.credentials())
            .retryPolicy(RetryPolicy.defaults().withMaxAttempts(1))
            .build()) {
      Orchestrator orchestrator =
          Orchestrator.builder(harness.orchestrator(runner).build())
              .github(github)
              .listener(harness.events::add)
              .time(new SkippingTime())
              .build();

      Orchestrator.Result result =
          assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);

      assertEquals(EndReason.COMPLETED, result.loops().get(0).reason());
    }
    List<BackingOff> backOffs = harness.events(BackingOff.class);
    assertEquals(
        List.of(100L, 200L, 400L), backOffs.stream().map(e -> e.delay().toMillis()).toList());
    assertTrue(backOffs.stream().allMatch(e -> e.reason().startsWith("GitHub: ")), "" + backOffs);
    assertEquals(1, harness.sim.state().finishedJobs());
    assertEquals(List.of(), harness.sim.state().runners());
  }

  @Test
  void refusedCredentialsEndTheLoopsWithTheAuthenticationFailure() throws Exception {
    RunnerConfig runner =
        harness
            .runner()
            .credentials(
                Credentials.pat(Secret.of("ghp_" + "NotAccepted0000000000000000000000000")))
            .build();

    Orchestrator.Result result =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            harness.build(harness.orchestrator(runner).loops(2).parallelStart(2).build())::run);

    assertTrue(result.refusal().isPresent(), "" + result);
    assertTrue(result.refusal().get().failure().get() instanceof GitHubAuthenticationException);
    assertEquals(List.of(), harness.events(VmStarted.class), "a VM started without registration");
  }

  @Test
  void refusedCredentialsStopTheStartOfFurtherLoops() throws Exception {
    RunnerConfig runner =
        harness
            .runner()
            .credentials(
                Credentials.pat(Secret.of("ghp_" + "NotAccepted0000000000000000000000000")))
            .build();

    Orchestrator.Result result =
        assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            harness.build(harness.orchestrator(runner).loops(3).build())::run);

    assertEquals(1, result.loops().size(), "loops started after GitHub refused the first");
    assertTrue(result.refusal().isPresent(), "" + result);
  }
}
