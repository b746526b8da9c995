package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code microrunner bench} as a real process, small: every row is measured and printed, and the
 * stop row's correctness part (exit 0, nothing left) holds. The figures themselves are the
 * benchmark's business, not this test's.
 */
class BenchIT {

  @TempDir Path tmp;
  @TempDir Path output;

  @Test
  void measuresEveryRowAndLeavesNothingBehind() throws Exception {
    Path standIn = Files.createDirectories(output.resolve("stand-in"));
    Path podman = standIn.resolve("podman");
    try (var script = BenchIT.class.getResourceAsStream("/stand-in/podman")) {
      Files.copy(script, podman);
    }
    podman.toFile().setExecutable(true);
    // The OCI runtime podman+krun needs beside podman; the stand-in never calls it.
    Path krun = Files.writeString(standIn.resolve("krun"), "#!/bin/sh\nexit 0\n");
    krun.toFile().setExecutable(true);
    Process bench =
        BuiltJar.start(
            tmp,
            output,
            "bench",
            "--runs",
            "1",
            "--iterations",
            "3",
            "--memory-loops",
            "3",
            "--stop-loops",
            "2",
            "--grace",
            "1",
            "--stand-in",
            standIn.toString(),
            "--stand-in-runners",
            "5");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(bench)) {
      assertTrue(bench.waitFor(5, TimeUnit.MINUTES), "bench did not end");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertTrue(List.of(0, 1).contains(bench.exitValue()), stdout + stderr);
      List<String> lines = stdout.lines().toList();
      assertEquals("metric", lines.get(0).split(" \\| ", -1)[0].strip());
      List<String> rows = lines.subList(1, 7);
      for (String row : rows) {
        String[] cells = row.split(" \\| ", -1);
        assertEquals(5, cells.length, row);
        assertTrue(cells[1].strip().matches("[0-9.]+ (s|ms|MB)( vs [0-9.]+ ms)?"), row);
        assertTrue(List.of("pass", "FAIL").contains(cells[4].strip()), row);
      }
      assertTrue(
          rows.get(3).startsWith("host gap seen from outside, against a bare loop"), rows.get(3));
      assertTrue(stdout.contains("median of 4 gaps for `microrunner orchestrator"), stdout);
      assertTrue(rows.get(5).startsWith("SIGTERM to exit, 2 busy loops"), rows.get(5));
      assertTrue(
          java.util.regex.Pattern.compile(
                  "exit status 0; 0 of 4 guest processes left \\([0-9] were still exiting .*\\);"
                      + " loop directories removed; 0 registrations left at the simulator\\.")
              .matcher(stdout)
              .find(),
          stdout);
      assertEquals(List.of(), descendants.alive());
      assertEquals(List.of(), DemoIT.entries(tmp), "left in the temporary directory");
    }
  }
}
