package dev.microrunner.loop;

import dev.microrunner.handshake.GuestHandshake;
import dev.microrunner.handshake.HandshakeFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The in-VM agent's settings; build them with {@link #builder(Path)}. Values in the {@code .env}
 * file win over these, as with the earlier entrypoint.
 *
 * @param envFile the {@code <id>.env} to read and delete
 * @param tokenFile where to publish registration; must be {@code <id>.tkn} beside the env file
 * @param github GitHub host, for the runner URL when the env file has none
 * @param group runner group
 * @param id the runner id in the default name {@code krun-<id>} when neither the env file nor the
 *     name setting names the runner
 * @param labels comma-separated labels
 * @param name runner name
 * @param principal owner/repo, organisation or enterprise
 * @param scope repo, org or enterprise
 * @param user the user that runs the runner when the agent runs as root
 * @param update let the runner update itself (token mode)
 * @param runnerInstall the actions/runner directory; absent means {@code $RUNNER_INSTALL}, else the
 *     first of {@link #DEFAULT_INSTALLS} that holds {@code bin/Runner.Listener}
 * @param command what to run instead of the listener, if not empty
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

  /**
   * The listener's own window to cancel a job and report it after SIGTERM (upstream's {@code
   * Constants.Runner.ExitOnUnloadTimeout}, 30 s), and a margin for it to go offline.
   */
  public static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(35);

  /** Where images usually unpack actions/runner. */
  public static final List<Path> DEFAULT_INSTALLS =
      List.of(Path.of("/home/runner"), Path.of("/opt/actions-runner"), Path.of("/actions-runner"));

  /**
   * @throws IllegalArgumentException when the env file is not named like one, the token file is not
   *     the one beside it, or a duration is out of range; the message names the setting
   */
  public AgentConfig {
    checkEnvFile(envFile);
    Objects.requireNonNull(tokenFile, "token file");
    tokenFile.ifPresent(file -> checkTokenFile(envFile, file));
    Objects.requireNonNull(github, "github");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(labels, "labels");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(runnerInstall, "runner install");
    command = List.copyOf(command);
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll interval must be positive, not " + pollInterval);
    }
    if (stopGrace.isNegative()) {
      throw new IllegalArgumentException("stop grace must not be negative: " + stopGrace);
    }
    Objects.requireNonNull(dockerService, "docker service");
  }

  private static void checkEnvFile(Path envFile) {
    Objects.requireNonNull(envFile, "env file");
    GuestHandshake.forEnvFile(envFile);
  }

  private static void checkTokenFile(Path envFile, Path tokenFile) {
    GuestHandshake handshake = GuestHandshake.forEnvFile(envFile);
    Path expected =
        handshake.directory().resolve(handshake.runnerId().fileName(HandshakeFile.TOKEN));
    if (!tokenFile.toAbsolutePath().normalize().equals(expected)) {
      throw new IllegalArgumentException("token file " + tokenFile + " must be " + expected);
    }
  }

  /**
   * Settings for the agent that reads {@code envFile}, the rest at their defaults.
   *
   * @throws IllegalArgumentException when {@code envFile} is not named like a runner env file
   */
  public static Builder builder(Path envFile) {
    return new Builder(envFile);
  }

  /**
   * Builds {@link AgentConfig}s. A null value leaves a setting unset, as an absent option does; a
   * setting that can be judged on its own is checked as it is set, so that a caller can tell which
   * one was refused.
   */
  public static final class Builder {
    private final Path envFile;
    private Path tokenFile;
    private String github;
    private String group;
    private String id;
    private String labels;
    private String name;
    private String principal;
    private String scope;
    private String user;
    private boolean update;
    private Path runnerInstall;
    private List<String> command = List.of();
    private Duration pollInterval = Duration.ofMillis(200);
    private Duration stopGrace = DEFAULT_STOP_GRACE;
    private DockerService dockerService = DockerService.AUTO;

    private Builder(Path envFile) {
      checkEnvFile(envFile);
      this.envFile = envFile;
    }

    /**
     * Where the agent publishes the registration.
     *
     * @throws IllegalArgumentException unless it is {@code <id>.tkn} beside the env file
     */
    public Builder tokenFile(Path tokenFile) {
      if (tokenFile != null) {
        checkTokenFile(envFile, tokenFile);
      }
      this.tokenFile = tokenFile;
      return this;
    }

    public Builder github(String github) {
      this.github = github;
      return this;
    }

    public Builder group(String group) {
      this.group = group;
      return this;
    }

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder labels(String labels) {
      this.labels = labels;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder principal(String principal) {
      this.principal = principal;
      return this;
    }

    public Builder scope(String scope) {
      this.scope = scope;
      return this;
    }

    public Builder user(String user) {
      this.user = user;
      return this;
    }

    public Builder update(boolean update) {
      this.update = update;
      return this;
    }

    public Builder runnerInstall(Path runnerInstall) {
      this.runnerInstall = runnerInstall;
      return this;
    }

    public Builder command(List<String> command) {
      this.command = command == null ? List.of() : command;
      return this;
    }

    /** Default 200 ms. */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = Objects.requireNonNull(pollInterval, "poll interval");
      return this;
    }

    /** Default 10 s. */
    public Builder stopGrace(Duration stopGrace) {
      this.stopGrace = Objects.requireNonNull(stopGrace, "stop grace");
      return this;
    }

    /** Default {@link DockerService#AUTO}. */
    public Builder dockerService(DockerService dockerService) {
      this.dockerService = Objects.requireNonNull(dockerService, "docker service");
      return this;
    }

    public AgentConfig build() {
      return new AgentConfig(
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
          pollInterval,
          stopGrace,
          dockerService);
    }
  }
}
