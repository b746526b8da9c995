package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code microrunner bench --burst} as a real process, small: both pools serve every job and the
 * output ends with the contract line, whose figures are sane. Whether the demand-driven pool meets
 * its target is the benchmark's business (measured, see docs/benchmarks.md), not this test's.
 */
class BenchBurstIT {

  private static final Pattern CONTRACT =
      Pattern.compile(
          "burst 6: fixed 2 loops p95 wait ([0-9]+\\.[0-9]) s, autoscaled p95 wait ([0-9]+\\.[0-9])"
              + " s; idle VM-seconds ([0-9]+\\.[0-9]) vs ([0-9]+\\.[0-9])");

  @TempDir Path tmp;
  @TempDir Path output;

  @Test
  void bothPoolsServeTheBurstAndTheLastLineIsTheContract() throws Exception {
    Process bench =
        BuiltJar.start(
            tmp,
            output,
            "bench",
            "--burst",
            "6",
            "--burst-fixed-loops",
            "2",
            "--burst-job-seconds",
            "1",
            "--burst-idle-timeout",
            "2",
            "--burst-settle",
            "3");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(bench)) {
      assertTrue(bench.waitFor(3, TimeUnit.MINUTES), "bench --burst did not end");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertTrue(List.of(0, 1).contains(bench.exitValue()), stdout + stderr);
      List<String> lines = stdout.lines().toList();
      Matcher last = CONTRACT.matcher(lines.get(lines.size() - 1));
      assertTrue(last.matches(), stdout);
      assertTrue(
          stdout.lines().anyMatch(l -> l.matches("jobs run +\\| 6/6 +\\| 6/6")),
          "every job ran on both sides: " + stdout);
      double fixedWait = Double.parseDouble(last.group(1));
      double autoscaledWait = Double.parseDouble(last.group(2));
      double fixedIdle = Double.parseDouble(last.group(3));
      double autoscaledIdle = Double.parseDouble(last.group(4));
      // Two loops for six 1 s jobs: the last two wait for two jobs before them.
      assertTrue(fixedWait >= 1.5 && fixedWait < 60, stdout);
      assertTrue(autoscaledWait > 0 && autoscaledWait < 60, stdout);
      // Past the last job each side keeps its idle runners (2 and min-idle 1) for the 3 s settle.
      assertTrue(fixedIdle >= 2 * 3 * 0.9 && fixedIdle < 60, stdout);
      assertTrue(autoscaledIdle >= 3 * 0.9 && autoscaledIdle < 60, stdout);
      assertFalse((stdout + stderr).contains("ghp_"), "a simulator token was printed");
      assertEquals(List.of(), descendants.alive());
      assertEquals(List.of(), DemoIT.entries(tmp), "left in the temporary directory");
    }
  }
}
