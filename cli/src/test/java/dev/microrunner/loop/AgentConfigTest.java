package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.handshake.HandshakeFile;
import dev.microrunner.handshake.RunnerId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's settings: defaults, each setting where it belongs, refusals that name the setting.
 */
class AgentConfigTest {
  @TempDir Path dir;
  private final RunnerId id = RunnerId.random(3);

  private Path envFile() {
    return dir.resolve(id.fileName(HandshakeFile.ENV));
  }

  @Test
  void defaultsLeaveEverythingToTheEnvFile() {
    AgentConfig config = AgentConfig.builder(envFile()).build();

    assertEquals(envFile(), config.envFile());
    assertEquals(Optional.empty(), config.tokenFile());
    assertEquals(Optional.empty(), config.user());
    assertEquals(Optional.empty(), config.runnerInstall());
    assertFalse(config.update());
    assertEquals(List.of(), config.command());
    assertEquals(Duration.ofMillis(200), config.pollInterval());
    assertEquals(Duration.ofSeconds(35), config.stopGrace(), "30 s for the listener, a margin");
    assertEquals(AgentConfig.DockerService.AUTO, config.dockerService());
  }

  @Test
  void eachSettingLandsInItsOwnComponent() {
    Path tokenFile = dir.resolve(id.fileName(HandshakeFile.TOKEN));
    AgentConfig config =
        AgentConfig.builder(envFile())
            .tokenFile(tokenFile)
            .github("ghe.example.com")
            .group("builders")
            .id("7")
            .labels("a,b")
            .name("runner-7")
            .principal("octo/hello")
            .scope("repo")
            .user("ci")
            .update(true)
            .runnerInstall(dir.resolve("runner"))
            .command(List.of("/bin/true", "x"))
            .pollInterval(Duration.ofMillis(50))
            .stopGrace(Duration.ofSeconds(3))
            .dockerService(AgentConfig.DockerService.OFF)
            .build();

    assertEquals(Optional.of(tokenFile), config.tokenFile());
    assertEquals(Optional.of("ghe.example.com"), config.github());
    assertEquals(Optional.of("builders"), config.group());
    assertEquals(Optional.of("7"), config.id());
    assertEquals(Optional.of("a,b"), config.labels());
    assertEquals(Optional.of("runner-7"), config.name());
    assertEquals(Optional.of("octo/hello"), config.principal());
    assertEquals(Optional.of("repo"), config.scope());
    assertEquals(Optional.of("ci"), config.user());
    assertTrue(config.update());
    assertEquals(Optional.of(dir.resolve("runner")), config.runnerInstall());
    assertEquals(List.of("/bin/true", "x"), config.command());
    assertEquals(Duration.ofMillis(50), config.pollInterval());
    assertEquals(Duration.ofSeconds(3), config.stopGrace());
    assertEquals(AgentConfig.DockerService.OFF, config.dockerService());
  }

  @Test
  void aTokenFileOtherThanTheOneBesideTheEnvFileIsRefusedByName() {
    Path elsewhere = dir.resolve("other").resolve(id.fileName(HandshakeFile.TOKEN));
    AgentConfig.Builder builder = AgentConfig.builder(envFile());

    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> builder.tokenFile(elsewhere));

    assertEquals(
        "token file "
            + elsewhere
            + " must be "
            + dir.toAbsolutePath().normalize().resolve(id.fileName(HandshakeFile.TOKEN)),
        error.getMessage());
  }

  @Test
  void theRecordChecksWhatTheBuilderChecks() {
    AgentConfig valid = AgentConfig.builder(envFile()).build();
    Path elsewhere = dir.resolve("x.tkn");

    IllegalArgumentException tokenFile =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new AgentConfig(
                    valid.envFile(),
                    Optional.of(elsewhere),
                    valid.github(),
                    valid.group(),
                    valid.id(),
                    valid.labels(),
                    valid.name(),
                    valid.principal(),
                    valid.scope(),
                    valid.user(),
                    valid.update(),
                    valid.runnerInstall(),
                    valid.command(),
                    valid.pollInterval(),
                    valid.stopGrace(),
                    valid.dockerService()));
    assertTrue(tokenFile.getMessage().startsWith("token file "), tokenFile.getMessage());

    IllegalArgumentException poll =
        assertThrows(
            IllegalArgumentException.class,
            () -> AgentConfig.builder(envFile()).pollInterval(Duration.ZERO).build());
    assertTrue(poll.getMessage().startsWith("poll interval "), poll.getMessage());
    IllegalArgumentException grace =
        assertThrows(
            IllegalArgumentException.class,
            () -> AgentConfig.builder(envFile()).stopGrace(Duration.ofSeconds(-1)).build());
    assertTrue(grace.getMessage().startsWith("stop grace "), grace.getMessage());
  }

  @Test
  void anEnvFileNotNamedLikeOneIsRefused() {
    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class, () -> AgentConfig.builder(dir.resolve("runner.txt")));

    assertTrue(error.getMessage().contains("runner.txt"), error.getMessage());
  }
}
