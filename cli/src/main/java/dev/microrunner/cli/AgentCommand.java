package dev.microrunner.cli;

import dev.microrunner.loop.Agent;
import dev.microrunner.loop.AgentConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

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
      "The runner is actions/runner's listener (bin/Runner.Listener) in RUNNER_INSTALL or"
          + " MICRORUNNER_RUNNER_DIR (default /home/runner, then /opt/actions-runner), or the"
          + " command after --.",
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

  @Option(
      names = "--stop-grace",
      paramLabel = "SECONDS",
      defaultValue = "${env:MICRORUNNER_STOP_GRACE:-35}",
      description =
          "How long the runner has to cancel its job and end after SIGTERM before it is killed"
              + " (actions/runner takes up to 30 s). MICRORUNNER_STOP_GRACE, now:"
              + " ${DEFAULT-VALUE}.")
  long stopGrace;

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Parameters(paramLabel = "COMMAND", description = "Run this instead of the listener.")
  List<String> command = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    logging.apply("AGENT", System.getenv());
    Agent agent = Agent.forThisProcess(toConfig());
    Signals.onEachTermination(agent::signalled);
    return agent.run();
  }

  /** The options as the agent's settings; a refused one is reported with its flag. */
  AgentConfig toConfig() {
    AgentConfig.Builder builder = flag("-E/--env-file", () -> AgentConfig.builder(envFile));
    flag("-k/--token-file", () -> builder.tokenFile(tokenFile));
    return builder
        .github(github)
        .group(group)
        .id(id)
        .labels(labels)
        .name(name)
        .principal(principal)
        .scope(scope)
        .user(user)
        .update(update)
        .runnerInstall(runnerInstall)
        .command(command)
        .dockerService(parseDockerService(dockerService))
        .stopGrace(flag("--stop-grace", () -> seconds(stopGrace)))
        .build();
  }

  /** A setting the library refuses, reported with the flag that gave it. */
  private <T> T flag(String flag, Supplier<T> setting) {
    try {
      return setting.get();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), flag + ": " + e.getMessage(), e);
    }
  }

  private static Duration seconds(long value) {
    if (value < 0) {
      throw new IllegalArgumentException("must not be negative, got " + value);
    }
    return Duration.ofSeconds(value);
  }

  private AgentConfig.DockerService parseDockerService(String value) {
    try {
      return AgentConfig.DockerService.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(), "--docker-service must be auto, on or off, not '" + value + "'", e);
    }
  }
}
