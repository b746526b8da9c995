package dev.microrunner.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The call log of the stand-in runtimes ({@code ../shared/stand-ins/fake-podman}): one line per
 * call or guest event, {@code <epoch seconds with microseconds> <pid> <arguments or event>}. A
 * {@code podman run} or {@code krunvm start} line is a VM's start as seen from outside; an {@code
 * exit} line is its guest's end.
 */
final class StandInCallLog {

  private StandInCallLog() {}

  /**
   * From each guest's end to the next VM start after it, in nanoseconds: the host gap that both
   * microrunner and a bare shell loop have to pay.
   */
  static List<Long> gaps(Path log) throws IOException {
    List<Long> starts = new ArrayList<>();
    List<Long> exits = new ArrayList<>();
    try (Stream<String> lines = Files.lines(log)) {
      lines.forEach(
          line -> {
            String[] words = line.trim().split("\\s+", -1);
            if (words.length < 3) {
              return;
            }
            long nanos = nanos(words[0]);
            boolean krunvmStart =
                words[2].equals("krunvm") && words.length > 3 && words[3].equals("start");
            if (words[2].equals("run") || krunvmStart) {
              starts.add(nanos);
            } else if (words[2].equals("exit")) {
              exits.add(nanos);
            }
          });
    }
    starts.sort(null);
    exits.sort(null);
    List<Long> gaps = new ArrayList<>();
    for (long exit : exits) {
      starts.stream().filter(start -> start > exit).findFirst().ifPresent(s -> gaps.add(s - exit));
    }
    return gaps;
  }

  /** {@code 1796041006.815012} (bash's EPOCHREALTIME) in nanoseconds, without rounding. */
  private static long nanos(String epochSeconds) {
    int dot = epochSeconds.indexOf('.');
    if (dot < 0) {
      return Long.parseLong(epochSeconds) * 1_000_000_000L;
    }
    String fraction = (epochSeconds.substring(dot + 1) + "000000000").substring(0, 9);
    return Long.parseLong(epochSeconds.substring(0, dot)) * 1_000_000_000L
        + Long.parseLong(fraction);
  }
}
