package dev.microrunner.loop;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The in-VM agent's settings, from its command line. Values in the {@code .env} file win over
 * these, as with the earlier entrypoint.
 *
 * @param envFile {@code -E}: the {@code <id>.env} to read and delete
 * @param tokenFile {@code -k}: where to publish registration; must be {@code <id>.tkn} beside the
 *     env file
 * @param github {@code -g}: GitHub host, for the runner URL when the env file has none
 * @param group {@code -G}: runner group
 * @param id {@code -i}: the runner id in the default name {@code krun-<id>} when neither the env
 *     file nor {@code -n} names the runner
 * @param labels {@code -L}: comma-separated labels
 * @param name {@code -n}: runner name
 * @param principal {@code -p}: owner/repo, organisation or enterprise
 * @param scope {@code -s}: repo, org or enterprise
 * @param user {@code -u}: the user that runs the runner when the agent runs as root
 * @param update {@code -U}: let the runner update itself (token mode)
 * @param runnerInstall the actions/runner directory; absent means {@code $RUNNER_INSTALL}, else the
 *     first of {@link #DEFAULT_INSTALLS} that holds {@code run.sh}
 * @param command what to run instead of {@code run.sh}, if not empty
 * @param pollInterval how often {@code .trm} is looked for
 * @param stopGrace how long the runner has to end after SIGTERM before it is killed
 * @param dockerService whether to serve a docker socket with podman for the runner's jobs
 */
public record AgentConfig(
    Path envFile,
    Optional<Path> tokenFile,
    Optional<String> github,
    Optional<String> group,
    Optional<String> id,
    Optional<String> labels,
    Optional<String> name,
    Optional<String> principal,
    Optional<String> scope,
    Optional<String> user,
    boolean update,
    Optional<Path> runnerInstall,
    List<String> command,
    Duration pollInterval,
    Duration stopGrace,
    DockerService dockerService) {

  /** The images' contract: a podman service on the docker socket, for the jobs' docker CLI. */
  public enum DockerService {
    /** When the agent runs as root inside a VM ({@code /_environment}) that has podman. */
    AUTO,
    ON,
    OFF
  }

  /** Where images usually unpack actions/runner. */
  public static final List<Path> DEFAULT_INSTALLS =
      List.of(Path.of("/home/runner"), Path.of("/opt/actions-runner"), Path.of("/actions-runner"));

  public AgentConfig {
    Objects.requireNonNull(envFile, "env file (-E)");
    Objects.requireNonNull(tokenFile, "tokenFile");
    Objects.requireNonNull(github, "github");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(runnerInstall, "runnerInstall");
    command = List.copyOf(command);
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(stopGrace, "stopGrace");
    Objects.requireNonNull(dockerService, "dockerService");
  }

  /** Settings with only the env file given, the rest defaults. */
  public static AgentConfig forEnvFile(Path envFile) {
    return new AgentConfig(
        envFile,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        false,
        Optional.empty(),
        List.of(),
        Duration.ofMillis(200),
        Duration.ofSeconds(10),
        DockerService.AUTO);
  }
}
