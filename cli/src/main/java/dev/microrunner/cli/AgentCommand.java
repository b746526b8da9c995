package dev.microrunner.cli;

import dev.microrunner.loop.Agent;
import dev.microrunner.loop.AgentConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code microrunner agent [options] [-- command]}: the entrypoint inside each VM. */
@Command(
    name = "agent",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    showEndOfOptionsDelimiterInUsageHelp = true,
    description = {
      "The entrypoint inside a VM: reads and deletes the .env file, registers and runs one"
          + " ephemeral actions/runner, and answers the host's .trm. Values in the .env file win"
          + " over these options.",
      "The runner is actions/runner's run.sh in RUNNER_INSTALL or MICRORUNNER_RUNNER_DIR (default /home/runner, then"
          + " /opt/actions-runner), or the command after --.",
    })
public final class AgentCommand implements Callable<Integer> {

  @Option(
      names = {"-e", "--ephemeral"},
      description = "Accepted for compatibility: runners are always ephemeral.")
  boolean ephemeral;

  @Option(
      names = {"-E", "--env-file"},
      required = true,
      paramLabel = "FILE",
      description = "The <id>.env file to read, then delete.")
  Path envFile;

  @Option(
      names = {"-k", "--token-file"},
      paramLabel = "FILE",
      description = "The <id>.tkn file to write once registered (beside the .env file).")
  Path tokenFile;

  @Option(
      names = {"-g", "--github"},
      description = "GitHub host, for the runner URL when the .env file has none.")
  String github;

  @Option(
      names = {"-G", "--group"},
      description = "Runner group.")
  String group;

  @Option(
      names = {"-i", "--id"},
      description = "Runner id for the default name krun-ID (default: the env file's id).")
  String id;

  @Option(
      names = {"-L", "--labels"},
      description = "Comma-separated labels.")
  String labels;

  @Option(
      names = {"-n", "--name"},
      description = "Runner name.")
  String name;

  @Option(
      names = {"-p", "--principal"},
      description = "owner/repo, organisation or enterprise.")
  String principal;

  @Option(
      names = {"-s", "--scope"},
      description = "repo, org or enterprise.")
  String scope;

  @Option(
      names = {"-u", "--user"},
      description = "User that runs the runner when the agent runs as root (default runner).")
  String user;

  @Option(
      names = {"-U", "--update"},
      description = "Let the runner update itself.")
  boolean update;

  @Option(
      names = "--runner-install",
      paramLabel = "DIR",
      description = "The actions/runner directory (default $RUNNER_INSTALL).")
  Path runnerInstall;

  @Option(
      names = "--docker-service",
      paramLabel = "auto|on|off",
      defaultValue = "${env:MICRORUNNER_DOCKER_SERVICE:-auto}",
      description =
          "Serve /var/run/docker.sock with podman for the jobs (auto: as root in a VM with"
              + " podman). MICRORUNNER_DOCKER_SERVICE, now: ${DEFAULT-VALUE}.")
  String dockerService;

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Parameters(paramLabel = "COMMAND", description = "Run this instead of run.sh.")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    logging.apply("AGENT", System.getenv());
    AgentConfig config =
        new AgentConfig(
            envFile,
            Optional.ofNullable(tokenFile),
            Optional.ofNullable(github),
            Optional.ofNullable(group),
            Optional.ofNullable(id),
            Optional.ofNullable(labels),
            Optional.ofNullable(name),
            Optional.ofNullable(principal),
            Optional.ofNullable(scope),
            Optional.ofNullable(user),
            update,
            Optional.ofNullable(runnerInstall),
            command,
            Duration.ofMillis(200),
            Duration.ofSeconds(10),
            parseDockerService(dockerService));
    Agent agent = Agent.forThisProcess(config);
    Signals.onEachTermination(agent::signalled);
    return agent.run();
  }

  private static AgentConfig.DockerService parseDockerService(String value) {
    try {
      return AgentConfig.DockerService.valueOf(value.trim().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "--docker-service must be auto, on or off, not '" + value + "'", e);
    }
  }
}
