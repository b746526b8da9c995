package dev.microrunner.cli.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.microrunner.github.sim.SimState;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.LoopEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RunnerTableTest {

  private static final long MS = 1_000_000L;

  @Test
  void oneRowPerStartedRunnerWithItsJobAndTimes() {
    RunnerTracker tracker = new RunnerTracker();
    RunnerId first = RunnerId.parse("1-aaaaaaaa");
    RunnerId second = RunnerId.parse("2-bbbbbbbb");
    RunnerId idle = RunnerId.parse("1-cccccccc");
    RunnerId neverStarted = RunnerId.parse("2-dddddddd");
    feed(tracker, second, "demo-2-bbbbbbbb", 300, 900, 2_300);
    feed(tracker, first, "demo-1-aaaaaaaa", 100, 600, 2_100);
    tracker.onEvent(created(idle, "demo-1-cccccccc", 2_200));
    tracker.onEvent(vmStarted(idle, 2_250));
    tracker.onEvent(vmExited(idle, 2_900));
    tracker.onEvent(created(neverStarted, "demo-2-dddddddd", 2_300));

    RunnerTable table =
        RunnerTable.of(
            tracker.started(),
            List.of(
                job("job-1", "demo-1-aaaaaaaa", 1_000), job("job-2", "demo-2-bbbbbbbb", 1_250)));

    assertEquals(2, table.runnersWithJobs());
    assertEquals(
        List.of(
            new RunnerTable.Row("1-aaaaaaaa", "job-1", "0.50 s", "1.00 s", "2.00 s"),
            new RunnerTable.Row("2-bbbbbbbb", "job-2", "0.60 s", "1.25 s", "2.00 s"),
            new RunnerTable.Row("1-cccccccc", "- (stopped at the end)", "-", "-", "0.65 s")),
        table.rows());
    StringWriter printed = new StringWriter();
    table.print(new PrintWriter(printed, true));
    assertEquals(
        """
        runner      job                     registered after  job time  total
        1-aaaaaaaa  job-1                             0.50 s    1.00 s  2.00 s
        """,
        printed.toString().lines().limit(2).map(l -> l + "\n").reduce("", String::concat));
    assertEquals(3, tracker.vmsStarted());
    assertEquals(0, tracker.vmsRunning());
  }

  private static void feed(
      RunnerTracker tracker, RunnerId id, String name, long started, long registered, long exited) {
    tracker.onEvent(created(id, name, started - 50));
    tracker.onEvent(vmStarted(id, started));
    tracker.onEvent(new LoopEvent.Registered(id.loop(), id, name, Instant.EPOCH, registered * MS));
    tracker.onEvent(vmExited(id, exited));
  }

  private static LoopEvent created(RunnerId id, String name, long millis) {
    return new LoopEvent.RunnerCreated(id.loop(), id, name, Instant.EPOCH, millis * MS);
  }

  private static LoopEvent vmStarted(RunnerId id, long millis) {
    return new LoopEvent.VmStarted(id.loop(), id, "vm-" + id, Instant.EPOCH, millis * MS);
  }

  private static LoopEvent vmExited(RunnerId id, long millis) {
    return new LoopEvent.VmExited(id.loop(), id, OptionalInt.of(0), Instant.EPOCH, millis * MS);
  }

  private static SimState.JobState job(String name, String runner, long millis) {
    Instant started = Instant.parse("2026-01-01T00:00:00Z");
    return new SimState.JobState(
        1,
        name,
        List.of("self-hosted"),
        "completed",
        Optional.of(7L),
        Optional.of(runner),
        started,
        Optional.of(started),
        Optional.of(started.plusMillis(millis)),
        Optional.of("Succeeded"),
        Optional.empty());
  }
}
