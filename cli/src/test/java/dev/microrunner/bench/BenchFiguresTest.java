package dev.microrunner.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.LoopEvent.Kind;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class BenchFiguresTest {

  @Test
  void aGapRunsFromOneVmsExitToTheNextVmsStartInEventTimeOrder() {
    List<LoopEvent> events =
        List.of(
            event(Kind.VM_STARTED, 100),
            event(Kind.REGISTERED, 150),
            event(Kind.VM_STARTED, 1_300), // listed before the exit it follows
            event(Kind.VM_EXITED, 1_000),
            event(Kind.REGISTRATION_REMOVED, 1_100),
            event(Kind.VM_EXITED, 2_000),
            event(Kind.LOOP_ENDED, 2_100));

    assertEquals(List.of(300L), Bench.gaps(events));
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
                    java.time.Duration.ZERO));
    assertEquals(
        "-R/--runtime: unknown runtime 'nope'; valid runtimes: podman+krun, krunvm, podman+crun,"
            + " podman+runc, process",
        e.getMessage());
  }

  private static LoopEvent event(Kind kind, long nanoTime) {
    return new LoopEvent(
        kind,
        1,
        Optional.of(RunnerId.parse("1-abcdefgh")),
        Instant.EPOCH,
        nanoTime,
        OptionalInt.empty(),
        "");
  }
}
