package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built jar's commands: help, exit statuses, short errors, the token command. */
class CommandLineIT {

  @TempDir Path work;
  private CliProcess cli;

  @BeforeEach
  void start() throws IOException {
    cli = new CliProcess(work);
  }

  @AfterEach
  void stop() {
    cli.sim.close();
  }

  @Test
  void helpShowsTheVariablesCurrentValuesButNeverASecret() throws Exception {
    CliProcess.Run run =
        cli.run(
            Map.of(
                "RUNNER_CPUS",
                "7",
                "RUNNER_LABELS",
                "gpu,big",
                "RUNNER_PAT",
                CliProcess.PAT,
                "RUNNER_SECRET",
                CliProcess.SECRET,
                "RUNNER_VERBOSE",
                "2"),
            "runner",
            "-h");

    assertEquals(0, run.status(), run.output());
    assertTrue(run.output().contains("RUNNER_CPUS, now: 7."), run.output());
    assertTrue(run.output().contains("RUNNER_LABELS, now: gpu,big."), run.output());
    assertTrue(run.output().contains("RUNNER_VERBOSE (-v), now: 2."), run.output());
    assertTrue(run.output().contains("RUNNER_MOUNT (space-separated), now:"), run.output());
    assertFalse(run.output().contains(CliProcess.PAT), "help shows the PAT");
    assertFalse(run.output().contains(CliProcess.SECRET), "help shows the secret");
  }

  @Test
  void optionsWinOverVariables() throws Exception {
    // -r 0 makes a loop that ends at once, so the orchestrator runs its whole start and stop.
    CliProcess.Run run =
        cli.run(
            Map.of("RUNNER_PAT", CliProcess.PAT, "ORCHESTRATOR_RUNNERS", "0"),
            "orchestrator",
            "-n",
            "2",
            "-R",
            "process",
            "--state-dir",
            work.resolve("state").toString(),
            "--",
            "-g",
            cli.sim.apiUrl().toString(),
            "-p",
            "octo/hello",
            "-r",
            "0");

    assertEquals(0, run.status(), run.output());
  }

  @Test
  void aBadOptionIsAUsageErrorWithAShortMessage() throws Exception {
    CliProcess.Run run = cli.run(Map.of("RUNNER_PAT", CliProcess.PAT), "orchestrator", "-n", "x");

    assertEquals(ExitCodes.USAGE, run.status(), run.output());
    assertTrue(run.output().contains("-n"), run.output());
  }

  @Test
  void anInvalidSettingNamesTheOptionWithoutAStackTrace() throws Exception {
    CliProcess.Run run =
        cli.run(
            Map.of("RUNNER_PAT", CliProcess.PAT),
            "runner",
            "-R",
            "process",
            "-g",
            cli.sim.apiUrl().toString(),
            "-p",
            "octo/hello",
            "-c",
            "0");

    assertEquals(ExitCodes.USAGE, run.status(), run.output());
    assertTrue(
        run.output().contains("microrunner runner: invalid -c/--cpus: must be positive, not 0"),
        run.output());
    assertFalse(run.output().contains("\tat "), "stack trace without --stacktrace");
  }

  @Test
  void aRefusedTokenExitsWithTheGitHubStatus() throws Exception {
    CliProcess.Run run =
        cli.run(
            Map.of("RUNNER_PAT", "ghp_" + "NotAcceptedByTheSimulator000000000000"),
            "runner",
            "-R",
            "process",
            "--state-dir",
            work.resolve("state").toString(),
            "-g",
            cli.sim.apiUrl().toString(),
            "-p",
            "octo/hello");

    assertEquals(ExitCodes.GITHUB_REFUSED, run.status(), run.output());
  }

  @Test
  void aMissingRuntimeExitsWithTheRuntimeStatus() throws Exception {
    CliProcess.Run run =
        cli.run(
            Map.of("RUNNER_PAT", CliProcess.PAT, "PATH", "/nonexistent"),
            "runner",
            "-R",
            "krunvm",
            "--state-dir",
            work.resolve("state").toString(),
            "-g",
            cli.sim.apiUrl().toString(),
            "-p",
            "octo/hello");

    assertEquals(ExitCodes.RUNTIME_UNAVAILABLE, run.status(), run.output());
    assertTrue(run.output().contains("krunvm"), run.output());
  }

  @Test
  void theTokenCommandPrintsOneTokenAndNothingElse() throws Exception {
    CliProcess.Run run =
        cli.run(
            Map.of("RUNNER_PAT", CliProcess.PAT),
            "token",
            "-g",
            cli.sim.apiUrl().toString(),
            "-p",
            "octo/hello",
            "-s",
            "repo");

    assertEquals(0, run.status(), run.output());
    List<String> lines = run.output().lines().toList();
    assertEquals(1, lines.size(), run.output());
    assertTrue(lines.get(0).matches("[A-Za-z0-9_-]{20,}"), run.output());
  }
}
