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
            "1");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(bench)) {
      assertTrue(bench.waitFor(5, TimeUnit.MINUTES), "bench did not end");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertTrue(List.of(0, 1).contains(bench.exitValue()), stdout + stderr);
      List<String> lines = stdout.lines().toList();
      assertEquals("metric", lines.get(0).split(" \\| ")[0].strip());
      List<String> rows = lines.subList(1, 6);
      for (String row : rows) {
        String[] cells = row.split(" \\| ");
        assertEquals(5, cells.length, row);
        assertTrue(cells[1].strip().matches("[0-9.]+ (s|ms|MB)"), row);
        assertTrue(List.of("pass", "FAIL").contains(cells[4].strip()), row);
      }
      assertTrue(rows.get(4).startsWith("SIGTERM to exit, 2 busy loops"), rows.get(4));
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
