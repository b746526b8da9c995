package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.InvalidCredentialsException;
import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RegistrationMode;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runner options into the loop configuration, as the orchestrator parses them in-process. */
class RunnerCommandTest {

  private static final Map<String, String> ENVIRONMENT =
      Map.of("RUNNER_PAT", "ghp_" + "c".repeat(36));

  @TempDir Path work;

  private static RunnerConfig parse(Map<String, String> environment, String... args)
      throws Exception {
    RunnerCommand command = new RunnerCommand();
    new CommandLine(command).parseArgs(args);
    return command.toConfig(environment, new Redactor());
  }

  @Test
  void everyRunnerOptionReachesTheConfiguration() throws Exception {
    RunnerConfig config =
        parse(
            Map.of("RUNNER_PAT", "ghp_" + "c".repeat(36), "RUNNER_UPDATE", "1"),
            "-c",
            "4",
            "-m",
            "2048",
            "-d",
            "9.9.9.9",
            "-g",
            "ghe.example.com",
            "-G",
            "builders",
            "-i",
            "ghcr.io/x/runner:fedora",
            "-k",
            "600",
            "-L",
            "a, b",
            "-M",
            work + ":/data:ro",
            "-p",
            "my-org",
            "-r",
            "3",
            "-s",
            "org",
            "-u",
            "ci",
            "--entrypoint",
            "/bin/agent",
            "--registration",
            "token",
            "--grace",
            "7",
            "--pull",
            "always",
            "--network",
            "host",
            "--env",
            "FOO=bar");

    assertEquals(4, config.vm().cpus());
    assertEquals(2048, config.vm().memoryMib());
    assertEquals("9.9.9.9", config.vm().dns());
    assertEquals("https://ghe.example.com/api/v3", config.target().apiBase().toString());
    assertEquals("builders", config.group());
    assertEquals("ghcr.io/x/runner:fedora", config.vm().image());
    assertEquals(Optional.of(Duration.ofMinutes(10)), config.lifetime());
    assertEquals(List.of("a", "b"), config.labels());
    assertEquals(List.of(new Mount(work, "/data", true)), config.vm().mounts());
    assertEquals("/orgs/my-org", config.scope().apiPath());
    assertEquals(3, config.repeat());
    assertEquals("ci", config.user());
    assertTrue(config.update(), "RUNNER_UPDATE=1");
    assertEquals("/bin/agent", config.vm().entrypoint());
    assertEquals(List.of(), config.vm().args());
    assertEquals(RegistrationMode.TOKEN, config.registration());
    assertEquals(Duration.ofSeconds(7), config.grace());
    assertEquals(PullPolicy.ALWAYS, config.pull());
    assertEquals(Optional.of("host"), config.vm().network());
    assertEquals(Map.of("FOO", "bar"), config.vm().environment());
  }

  @Test
  void theEntrypointsFurtherWordsAreItsLeadingArguments() throws Exception {
    RunnerConfig config =
        parse(ENVIRONMENT, "-p", "o/r", "--entrypoint", "/sbin/init --  /bin/agent  agent");
    assertEquals("/sbin/init", config.vm().entrypoint());
    assertEquals(List.of("--", "/bin/agent", "agent"), config.vm().args());
  }

  @Test
  void devDirMountsTheAgentDistributionAndRunsItsLauncher() throws Exception {
    RunnerConfig config =
        parse(ENVIRONMENT, "-p", "o/r", "-D", "/opt/mr/", "--agent-dist", work.toString());
    assertEquals("/opt/mr/agent", config.vm().entrypoint());
    assertEquals(List.of(), config.vm().args());
    assertEquals(List.of(new Mount(work, "/opt/mr", true)), config.vm().mounts());
  }

  @Test
  void theSecretComesFromTheVariableAndIsChecked() throws Exception {
    RunnerConfig config =
        parse(
            Map.of(
                "RUNNER_PAT",
                "ghp_" + "c".repeat(36),
                "RUNNER_SECRET",
                "abcdefghijklmnopqrstuvwxyz012345"),
            "-p",
            "octo/hello");
    assertEquals("abcdefghijklmnopqrstuvwxyz012345", config.secret().orElseThrow().reveal());

    InvalidSettingException tooShort =
        assertThrows(
            InvalidSettingException.class, () -> parse(ENVIRONMENT, "-p", "o/r", "-S", "short"));
    assertEquals("secret", tooShort.setting());
    assertTrue(
        Main.describe(tooShort, new CommandLine(new RunnerCommand()))
            .startsWith(
                "invalid -S/--secret: (RUNNER_SECRET) is not usable: the loop secret has 5"
                    + " characters"),
        Main.describe(tooShort, new CommandLine(new RunnerCommand())));
  }

  @Test
  void missingPrincipalAndCredentialsAreNamed() {
    InvalidSettingException principal =
        assertThrows(InvalidSettingException.class, () -> parse(ENVIRONMENT));
    assertTrue(
        Main.describe(principal, new CommandLine(new RunnerCommand()))
            .startsWith("invalid -p/--principal: is missing"),
        principal.getMessage());
    assertTrue(
        assertThrows(InvalidCredentialsException.class, () -> parse(Map.of(), "-p", "o/r"))
            .getMessage()
            .contains("RUNNER_PAT"));
  }

  @Test
  void mountsAreCheckedWhenParsed() {
    assertThrows(IllegalArgumentException.class, () -> RunnerCommand.parseMount("relative:/x"));
    assertThrows(
        IllegalArgumentException.class, () -> RunnerCommand.parseMount("/does/not/exist:/x"));
    assertThrows(IllegalArgumentException.class, () -> RunnerCommand.parseMount(work + ":/x:rx"));
  }

  @Test
  void invalidSettingsAreNamedByTheOptionsOfTheCommandThatGotThem() {
    CommandLine runner = new CommandLine(new RunnerCommand());
    CommandLine orchestrator = new CommandLine(new OrchestratorCommand());
    assertEquals(
        "invalid -c/--cpus: must be positive, not 0",
        Main.describe(new InvalidSettingException("cpus", "must be positive, not 0"), runner));
    assertEquals(
        "invalid -n/--loops: must be at least 1, not 0",
        Main.describe(
            new InvalidSettingException("loops", "must be at least 1, not 0"), orchestrator));
    assertEquals(
        "invalid --parallel-start: must be at least 1, not 0",
        Main.describe(
            new InvalidSettingException("parallel-start", "must be at least 1, not 0"),
            orchestrator));
    // Runner options reach the orchestrator after --.
    assertEquals(
        "invalid -m/--memory: must be at least 64 MiB, not 10 MiB",
        Main.describe(
            new InvalidSettingException("memory", "must be at least 64 MiB, not 10 MiB"),
            orchestrator));
    assertEquals(
        "invalid -p/--prefix: must be 1 to 40 letters",
        Main.describe(
            new InvalidSettingException("prefix", "must be 1 to 40 letters"), orchestrator));
  }

  @Test
  void exitStatusesFollowTheFailure() {
    assertEquals(ExitCodes.USAGE, Main.exitCode(new IllegalArgumentException("x")));
    assertEquals(
        ExitCodes.GITHUB_REFUSED,
        Main.exitCode(new dev.microrunner.github.GitHubAuthenticationException("x")));
    assertEquals(
        ExitCodes.RUNTIME_UNAVAILABLE,
        Main.exitCode(new dev.microrunner.loop.RuntimeUnavailableException("x")));
    assertEquals(ExitCodes.FAILURE, Main.exitCode(new java.io.IOException("x")));
    // One classification of GitHub's refusals, the loops' and the command line's.
    assertEquals(
        ExitCodes.GITHUB_REFUSED,
        Main.exitCode(new dev.microrunner.github.GitHubValidationException("x")));
    assertEquals(
        ExitCodes.FAILURE,
        Main.exitCode(new dev.microrunner.github.GitHubUnavailableException("x", 503, null)));
  }
}
