package dev.microrunner.cli;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code microrunner demo} as a real process: the built jar, nothing running or left after. */
class DemoIT {

  private static final Pattern ACTIVE = Pattern.compile("active (\\d+)");

  @TempDir Path tmp;
  @TempDir Path output;

  @Test
  void theDemoRunsEveryJobAndEndsWithTheExactLastLine() throws Exception {
    Process demo = BuiltJar.start(tmp, output, "demo");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(demo)) {
      assertTrue(demo.waitFor(120, TimeUnit.SECONDS), "the demo did not end in 120 s");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertEquals(0, demo.exitValue(), () -> stdout + stderr);
      List<String> lines = stdout.lines().toList();
      assertEquals(
          "demo: 6/6 jobs completed by 6 ephemeral runners",
          lines.get(lines.size() - 1),
          () -> stdout + stderr);
      assertTrue(
          stdout.contains(
              "demo: no microVM runtime found (install podman + krun or krunvm); using the"
                  + " process runtime: no isolation, for demonstration only"),
          stdout);
      assertTrue(stdout.contains("runner ") && stdout.contains("registered after"), stdout);
      for (int job = 1; job <= 6; job++) {
        assertTrue(stdout.contains(" job-" + job + " "), "no row for job-" + job + ":\n" + stdout);
      }
      assertFalse(descendants.seen().isEmpty(), "the demo started no VM process");
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertEquals(List.of(), descendants.alive(), "left running"));
      assertEquals(List.of(), entries(tmp), "left in the temporary directory");
    }
  }

  @Test
  void withMaxTheRunnersFollowTheSimulatorsWebhooksUpToMax() throws Exception {
    Process demo = BuiltJar.start(tmp, output, "demo", "--max", "3", "--jobs", "6");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(demo)) {
      assertTrue(demo.waitFor(120, TimeUnit.SECONDS), "the demo did not end in 120 s");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertEquals(0, demo.exitValue(), () -> stdout + stderr);
      List<String> lines = stdout.lines().toList();
      assertEquals(
          "demo: 6/6 jobs completed by 6 ephemeral runners",
          lines.get(lines.size() - 1),
          () -> stdout + stderr);
      assertTrue(stdout.contains("up to 3 VMs as the simulator's signed webhooks"), stdout);
      int mostActive =
          lines.stream()
              .map(ACTIVE::matcher)
              .filter(Matcher::find)
              .mapToInt(m -> Integer.parseInt(m.group(1)))
              .max()
              .orElse(0);
      assertTrue(mostActive >= 2 && mostActive <= 3, "most runners at once: " + mostActive);
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertEquals(List.of(), descendants.alive(), "left running"));
      assertEquals(List.of(), entries(tmp), "left in the temporary directory");
    }
  }

  @Test
  void anUnknownRuntimeFailsWithTheValidNamesAndStartsNothing() throws Exception {
    Process demo = BuiltJar.start(tmp, output, "demo", "-R", "nope");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(demo)) {
      assertTrue(demo.waitFor(30, TimeUnit.SECONDS));
      String stderr = Files.readString(output.resolve("stderr"));
      assertEquals(ExitCodes.USAGE, demo.exitValue(), stderr);
      assertTrue(stderr.contains("unknown runtime 'nope'"), stderr);
      assertTrue(
          stderr.contains(
              "valid runtimes: auto, podman+krun, krunvm, qemu, podman+crun, podman+runc,"),
          stderr);
      assertEquals(List.of(), descendants.alive());
      assertEquals(List.of(), entries(tmp), "left in the temporary directory");
    }
  }

  @Test
  void aRuntimeThatIsNotInstalledFailsClearlyAndLeavesNothing() throws Exception {
    Process demo = BuiltJar.start(tmp, output, "demo", "-R", "krunvm");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(demo)) {
      assertTrue(demo.waitFor(60, TimeUnit.SECONDS));
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertEquals(ExitCodes.RUNTIME_UNAVAILABLE, demo.exitValue(), stdout + stderr);
      assertTrue(stderr.contains("krunvm is not available"), stderr);
      assertFalse(stdout.contains("jobs completed"), stdout);
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertEquals(List.of(), descendants.alive(), "left running"));
      assertEquals(List.of(), entries(tmp), "left in the temporary directory");
    }
  }

  @Test
  void sigtermWhileJobsRunStopsEverythingAndSaysSo() throws Exception {
    Process demo = BuiltJar.start(tmp, output, "demo", "--job-duration", "60");
    try (BuiltJar.Descendants descendants = new BuiltJar.Descendants(demo)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> Files.readString(output.resolve("stdout")).contains("runners started 3"));
      demo.destroy(); // SIGTERM
      assertTrue(demo.waitFor(30, TimeUnit.SECONDS), "the demo did not end after SIGTERM");
      String stdout = Files.readString(output.resolve("stdout"));
      String stderr = Files.readString(output.resolve("stderr"));
      assertEquals(130, demo.exitValue(), () -> stdout + stderr);
      assertTrue(
          stderr.contains("demo: interrupted; every runner and VM was stopped and removed"),
          stderr);
      assertFalse(stdout.contains("jobs completed"), stdout);
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(() -> assertEquals(List.of(), descendants.alive(), "left running"));
      assertEquals(List.of(), entries(tmp), "left in the temporary directory");
    }
  }

  static List<Path> entries(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.toList();
    }
  }
}
