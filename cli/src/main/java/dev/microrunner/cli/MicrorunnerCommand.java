package dev.microrunner.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/**
 * The top-level {@code microrunner} command. A new sub-command is one more class in {@code
 * subcommands}.
 */
@Command(
    name = "microrunner",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Self-hosted, ephemeral GitHub Actions runners, each in a fresh microVM.",
    subcommands = {
      OrchestratorCommand.class,
      StatusCommand.class,
      RunnerCommand.class,
      AgentCommand.class,
      TokenCommand.class,
      SimCommand.class,
      DemoCommand.class,
      BenchCommand.class,
      ImageCommand.class,
      HelpCommand.class,
    })
public final class MicrorunnerCommand {}
