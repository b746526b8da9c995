package dev.microrunner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.LoopEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchFiguresTest {

  private static final RunnerId ID = RunnerId.parse("1-abcdefgh");

  @Test
  void aGapRunsFromOneVmsExitToTheNextVmsStartInEventTimeOrder() {
    List<LoopEvent> events =
        List.of(
            new LoopEvent.VmStarted(1, ID, "vm", Instant.EPOCH, 100),
            new LoopEvent.Registered(1, ID, "runner", Instant.EPOCH, 150),
            // listed before the exit it follows
            new LoopEvent.VmStarted(1, ID, "vm", Instant.EPOCH, 1_300),
            new LoopEvent.VmExited(1, ID, OptionalInt.of(0), Instant.EPOCH, 1_000),
            new LoopEvent.RegistrationRemoved(1, ID, true, Instant.EPOCH, 1_100),
            new LoopEvent.VmExited(1, ID, OptionalInt.of(0), Instant.EPOCH, 2_000),
            new LoopEvent.Ended(
                1, LoopEvent.EndReason.COMPLETED, 2, Optional.empty(), Instant.EPOCH, 2_100));

    assertEquals(List.of(300L), Bench.gaps(events));
  }

  @Test
  void theStandInsGapRunsFromAGuestsExitToTheNextRunInTheCallLog(@TempDir Path dir)
      throws Exception {
    Path log = dir.resolve("calls.log");
    Files.writeString(
        log,
        """
        1796041006.100000 11 ps --all --filter label=x
        1796041006.200000 12 run --runtime krun --rm --name a-1 img /agent
        1796041006.250000 12 exit a-1
        1796041006.254100 13 run --runtime krun --rm --name a-2 img /agent
        1796041006.260000 14 ps --all --filter name=a-1
        1796041006.300000 13 exit a-2
        1796041006.3035 15 krunvm start a-3 /agent
        1796041006.400000 15 exit a-3
        """);

    assertEquals(List.of(4_100_000L, 3_500_000L), StandInCallLog.gaps(log));
  }

  @Test
  void percentilesUseTheNearestRank() {
    List<Long> values = List.of(5L, 1L, 4L, 2L, 3L, 10L);
    assertEquals(3L, Bench.median(values));
    assertEquals(10L, Bench.percentile(values, 90));
    assertEquals(1L, Bench.percentile(values, 1));
    assertEquals(7L, Bench.median(List.of(7L)));
    assertThrows(IllegalArgumentException.class, () -> Bench.median(List.of()));
  }

  @Test
  void anUnknownRuntimeIsRefusedWithTheValidNames() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Bench.Options(
                    "nope",
                    "image",
                    1,
                    2,
                    java.time.Duration.ZERO,
                    java.time.Duration.ZERO,
                    1,
                    1,
                    java.time.Duration.ZERO,
                    Optional.empty(),
                    100));
    assertEquals(
        "-R/--runtime: unknown runtime 'nope'; valid runtimes: podman+krun, krunvm, qemu,"
            + " podman+crun, podman+runc, process",
        e.getMessage());
  }
}
