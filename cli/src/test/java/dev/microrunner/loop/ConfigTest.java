package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.vm.Mount;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {

  private static RunnerConfig.Builder valid() {
    return RunnerConfig.builder()
        .target(GitHubTarget.of("github.com"))
        .scope(RunnerScope.of("repo", "octo/hello"))
        .credentials(Credentials.pat(Secret.of("ghp_" + "a".repeat(36))));
  }

  @Test
  void backoffDoublesUpToItsCap() {
    Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10));
    assertEquals(
        List.of(1L, 2L, 4L, 8L, 10L, 10L),
        List.of(1, 2, 3, 4, 5, 50).stream().map(n -> backoff.delay(n).toSeconds()).toList());
  }

  @Test
  void defaultsFollowTheEarlierImplementation() {
    RunnerConfig config = valid().build();
    assertEquals(List.of("self-hosted", "krun", "ubuntu"), config.effectiveLabels());
    assertEquals("ubuntu-krun-3-abcdefgh", config.runnerName("3-abcdefgh"));
    assertEquals(2, config.vm().cpus());
    assertEquals(1024, config.vm().memoryMib());
    assertEquals("1.1.1.1", config.vm().dns());
    assertEquals(RunnerConfig.DEFAULT_IMAGE, config.vm().image());
    assertEquals(-1, config.repeat());
    assertEquals("/usr/local/sbin/microrunner-init", config.vm().entrypoint());
    assertEquals(List.of("--", "/opt/microrunner/bin/microrunner", "agent"), config.vm().args());
    RunnerConfig fedora = valid().vm(vm -> vm.image("ghcr.io/x/runner:fedora")).build();
    assertEquals("fedora-krun-1-abcdefgh", fedora.runnerName("1-abcdefgh"));
  }

  @Test
  void developmentModeRunsTheAgentLauncherFromTheMountedDirectory(@TempDir Path dist) {
    RunnerConfig config = valid().agentFromHost(dist, "/local/").build();
    assertEquals("/local/agent", config.vm().entrypoint());
    assertEquals(List.of(), config.vm().args());
    assertEquals(List.of(new Mount(dist, "/local", true)), config.vm().mounts());
    InvalidSettingException relative =
        assertThrows(InvalidSettingException.class, () -> valid().agentFromHost(dist, "relative"));
    assertEquals("dev-dir", relative.setting());
  }

  @Test
  void invalidValuesNameTheirSetting() {
    assertEquals("cpus", invalid(() -> valid().vm(vm -> vm.cpus(0)).build()).setting());
    InvalidSettingException memory = invalid(() -> valid().vm(vm -> vm.memoryMib(10)).build());
    assertEquals("memory", memory.setting());
    assertEquals("must be at least 64 MiB, not 10 MiB", memory.problem());
    assertEquals("memory must be at least 64 MiB, not 10 MiB", memory.getMessage());
    assertEquals("dns", invalid(() -> valid().vm(vm -> vm.dns("one.one")).build()).setting());
    assertEquals(
        "env",
        invalid(() -> valid().vm(vm -> vm.environment("GITHUB_TOKEN", "x")).build()).setting());
    assertEquals(
        "lifetime", invalid(() -> valid().lifetime(Optional.of(Duration.ZERO)).build()).setting());
    assertEquals("prefetch", invalid(() -> valid().prefetch(0).build()).setting());
    assertEquals(
        "loops",
        invalid(() -> OrchestratorConfig.builder(valid().build()).loops(0).build()).setting());
    assertEquals(
        "prefix",
        invalid(() -> OrchestratorConfig.builder(valid().build()).prefix("bad prefix").build())
            .setting());
    assertEquals(
        "parallel-start",
        invalid(() -> OrchestratorConfig.builder(valid().build()).parallelStart(0).build())
            .setting());
  }

  private static InvalidSettingException invalid(Executable build) {
    InvalidSettingException e = assertThrows(InvalidSettingException.class, build);
    // The library speaks of settings; which flag or key gives one is the front end's business.
    assertFalse(e.getMessage().matches(".*(^|\\W)-[a-zA-Z]\\b.*"), e.getMessage());
    return e;
  }

  @Test
  void theConfigurationNeverPrintsItsSecrets() {
    LoopSecret secret = LoopSecret.generate();
    String pat = "ghp_" + "b".repeat(36);
    RunnerConfig config =
        valid().credentials(Credentials.pat(Secret.of(pat))).secret(Optional.of(secret)).build();
    assertFalse(config.toString().contains(pat));
    assertFalse(config.toString().contains(secret.reveal()));
  }

  @Test
  void aRedactorMasksItsSecretsUntilForgotten() {
    String secret = "s3cr3t-value-for-redaction";
    Redactor redactor = new Redactor();
    redactor.add(secret);
    redactor.add("short");
    assertEquals("token=*** end short", redactor.redact("token=" + secret + " end short"));
    assertEquals("token=" + secret, new Redactor().redact("token=" + secret), "another redactor");
    redactor.forget(secret);
    assertEquals("token=" + secret, redactor.redact("token=" + secret));
  }

  @Test
  void guestOutputLosesControlCharacters() {
    assertEquals("a?[31mred? b\tc", RunnerLoop.printable("a\u001b[31mred\r b\tc"));
  }
}
