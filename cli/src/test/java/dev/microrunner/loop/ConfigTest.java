package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.handshake.LoopSecret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

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
    assertEquals(2, config.cpus());
    assertEquals(1024, config.memoryMib());
    assertEquals("1.1.1.1", config.dns());
    assertEquals(-1, config.repeat());
    assertEquals("/usr/local/sbin/microrunner-init", config.effectiveEntrypoint());
    assertEquals(
        List.of("--", "/opt/microrunner/bin/microrunner", "agent"), config.entrypointArguments());
    RunnerConfig fedora = valid().image("ghcr.io/x/runner:fedora").build();
    assertEquals("fedora-krun-1-abcdefgh", fedora.runnerName("1-abcdefgh"));
  }

  @Test
  void developmentModeRunsTheAgentLauncherFromTheMountedDirectory() {
    RunnerConfig config =
        valid()
            .developmentDirectory(Optional.of("/local/"))
            .agentDistribution(Optional.of(Path.of("/opt/microrunner-dist")))
            .build();
    assertEquals("/local/agent", config.effectiveEntrypoint());
    assertEquals(List.of(), config.entrypointArguments());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            valid()
                .developmentDirectory(Optional.of("relative"))
                .agentDistribution(Optional.of(Path.of("/opt/microrunner-dist")))
                .build());
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> valid().developmentDirectory(Optional.of("/local")).build())
            .getMessage()
            .contains("--agent-dist"));
  }

  @Test
  void invalidValuesNameTheirOption() {
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> valid().cpus(0).build())
            .getMessage()
            .contains("-c"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> valid().memoryMib(10).build())
            .getMessage()
            .contains("-m"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> valid().lifetime(Optional.of(Duration.ZERO)).build())
            .getMessage()
            .contains("-k"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> OrchestratorConfig.builder(valid().build()).loops(0).build())
            .getMessage()
            .contains("-n"));
    assertTrue(
        assertThrows(
                IllegalArgumentException.class,
                () -> OrchestratorConfig.builder(valid().build()).prefix("bad prefix").build())
            .getMessage()
            .contains("-p"));
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
  void redactionMasksRegisteredSecretsUntilForgotten() {
    String secret = "s3cr3t-value-for-redaction";
    Redaction.register(secret);
    assertEquals("token=*** end", Redaction.redact("token=" + secret + " end"));
    Redaction.forget(secret);
    assertEquals("token=" + secret, Redaction.redact("token=" + secret));
  }

  @Test
  void guestOutputLosesControlCharacters() {
    assertEquals("a?[31mred? b\tc", RunnerLoop.printable("a\u001b[31mred\r b\tc"));
  }
}
