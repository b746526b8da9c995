package dev.microrunner.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.handshake.HandshakeFile;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.AgentConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Agent options into the agent's settings; refused settings are reported with their flags. */
class AgentCommandTest {
  @TempDir Path dir;
  private final RunnerId id = RunnerId.random(2);

  private static AgentConfig parse(String... args) {
    AgentCommand command = new AgentCommand();
    new CommandLine(command).parseArgs(args);
    return command.toConfig();
  }

  @Test
  void theOptionsBecomeTheSettings() {
    Path envFile = dir.resolve(id.fileName(HandshakeFile.ENV));
    Path tokenFile = dir.resolve(id.fileName(HandshakeFile.TOKEN));

    AgentConfig config =
        parse(
            "-E",
            envFile.toString(),
            "-k",
            tokenFile.toString(),
            "-u",
            "ci",
            "-p",
            "octo/hello",
            "-U",
            "--docker-service",
            "off",
            "--",
            "/bin/true",
            "x");

    assertEquals(envFile, config.envFile());
    assertEquals(Optional.of(tokenFile), config.tokenFile());
    assertEquals(Optional.of("ci"), config.user());
    assertEquals(Optional.of("octo/hello"), config.principal());
    assertTrue(config.update());
    assertEquals(AgentConfig.DockerService.OFF, config.dockerService());
    assertEquals(List.of("/bin/true", "x"), config.command());
  }

  @Test
  void aWrongTokenFileIsReportedWithItsFlag() {
    Path envFile = dir.resolve(id.fileName(HandshakeFile.ENV));

    CommandLine.ParameterException error =
        assertThrows(
            CommandLine.ParameterException.class,
            () -> parse("-E", envFile.toString(), "-k", dir.resolve("x.tkn").toString()));

    assertTrue(error.getMessage().startsWith("-k/--token-file: token file "), error.getMessage());
  }

  @Test
  void aWrongEnvFileIsReportedWithItsFlag() {
    CommandLine.ParameterException error =
        assertThrows(
            CommandLine.ParameterException.class,
            () -> parse("-E", dir.resolve("runner.txt").toString()));

    assertTrue(error.getMessage().startsWith("-E/--env-file: "), error.getMessage());
  }
}
