package dev.microrunner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.sim.SimState;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus.State;
import dev.microrunner.loop.LoopEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class BurstFiguresTest {

  private static final RunnerId A = RunnerId.parse("1-abcdefgh");
  private static final RunnerId B = RunnerId.parse("2-abcdefgh");
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static Instant at(double seconds) {
    return T0.plusMillis(Math.round(seconds * 1000));
  }

  private static LoopEvent state(RunnerId runner, State state, double seconds) {
    return new LoopEvent.RunnerStateChanged(
        1, runner, state, Optional.empty(), at(seconds), Math.round(seconds * 1e9));
  }

  private static LoopEvent exited(RunnerId runner, double seconds) {
    return new LoopEvent.VmExited(
        1, runner, OptionalInt.of(0), at(seconds), Math.round(seconds * 1e9));
  }

  @Test
  void idleTimeRunsFromIdleToTheNextStateOrTheExitClippedToTheWindow() {
    List<LoopEvent> events =
        List.of(
            // idle from before the window (counted from 10 s) until busy at 12 s: 2 s
            state(A, State.STARTING, 0),
            state(A, State.IDLE, 1),
            state(A, State.BUSY, 12),
            exited(A, 14),
            // listed out of order: idle 15 s to its exit at 16.5 s: 1.5 s
            exited(B, 16.5),
            state(B, State.IDLE, 15),
            // still idle at the window's end (20 s): 2 s
            state(A, State.IDLE, 18));

    assertEquals(5.5, Burst.idleVmSeconds(events, at(10), at(20)), 1e-9);
  }

  @Test
  void aRunnerThatNeverIdledCostsNothing() {
    List<LoopEvent> events =
        List.of(state(A, State.STARTING, 1), state(A, State.BUSY, 2), exited(A, 3));

    assertEquals(0.0, Burst.idleVmSeconds(events, at(0), at(10)));
  }

  @Test
  void aJobWaitsFromQueuedToStartedAndAJobNeverStartedHasNoWait() {
    List<SimState.JobState> jobs =
        List.of(job(at(1), Optional.of(at(3.5))), job(at(1), Optional.empty()));

    assertEquals(List.of(2_500_000_000L), Burst.waits(jobs));
  }

  @Test
  void theLastLineIsTheContractAndTheTargetNeedsBothFigures() {
    Burst.Options options =
        new Burst.Options(
            20, 4, Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(15));
    Burst.Side fixed = new Burst.Side("fixed", 20, List.of(8_340_000_000L), 60.84, 20);
    Burst.Side fast = new Burst.Side("auto", 20, List.of(300_000_000L), 16.2, 20);
    Burst.Side idler = new Burst.Side("auto", 20, List.of(300_000_000L), 70, 20);
    Burst.Side unfinished = new Burst.Side("auto", 19, List.of(300_000_000L), 16.2, 20);

    Burst.Result result = new Burst.Result(options, fixed, fast);
    assertEquals(
        "burst 20: fixed 4 loops p95 wait 8.3 s, autoscaled p95 wait 0.3 s; idle VM-seconds 60.8"
            + " vs 16.2",
        result.summary());
    assertTrue(result.targetMet());
    assertFalse(new Burst.Result(options, fixed, idler).targetMet());
    assertFalse(new Burst.Result(options, fixed, unfinished).targetMet());
  }

  private static SimState.JobState job(Instant queued, Optional<Instant> started) {
    return new SimState.JobState(
        1,
        "job",
        List.of("self-hosted"),
        started.isPresent() ? "in_progress" : "queued",
        Optional.empty(),
        Optional.empty(),
        queued,
        started,
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }
}
