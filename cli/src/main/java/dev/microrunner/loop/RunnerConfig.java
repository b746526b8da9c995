package dev.microrunner.loop;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What every runner of a loop looks like and how the loop behaves. Built with {@link #builder()};
 * the orchestrator hands the same configuration to each of its loops.
 *
 * @param target the GitHub server
 * @param scope the repository, organisation or enterprise the runners serve
 * @param credentials how the host authenticates at GitHub; never leaves the host
 * @param registration JIT config (default) or registration token
 * @param group the runner group name
 * @param labels the runner labels; empty means {@code self-hosted,krun,<distro>}
 * @param namePrefix runner names are {@code <namePrefix>-<runner id>}; empty means {@code
 *     <distro>-krun}
 * @param image the OCI image of the VMs
 * @param pull when to pull the image, once when the loop starts (never per iteration)
 * @param cpus vCPUs per VM
 * @param memoryMib memory per VM, MiB
 * @param dns the DNS server in the VM
 * @param mounts extra mounts ({@code -M})
 * @param entrypoint the command the VM runs, with leading arguments separated by spaces (e.g.
 *     {@code /opt/microrunner/bin/microrunner agent}); then come {@code -E <env file> -k <token
 *     file>}
 * @param developmentDirectory {@code -D}: where the host's agent distribution is mounted read-only,
 *     the entrypoint then being {@code <dir>/agent}
 * @param agentDistribution the host directory holding {@code microrunner.jar} and {@code agent},
 *     for {@code developmentDirectory}
 * @param user the user that runs the runner inside the VM
 * @param update let the runner update itself
 * @param repeat how many runners the loop creates before it ends; negative means forever
 * @param lifetime end the loop after this long ({@code -k})
 * @param grace how long a VM has to end after {@code .trm} before it is stopped
 * @param registrationTimeout how long a VM may take to publish {@code .tkn}
 * @param secret the loop secret; absent means a fresh random one per loop
 * @param guestEnvironment extra environment of the VM's entrypoint; never put a secret here
 * @param network the VM network (e.g. {@code host}), runtime default when absent
 * @param workFolder the runner's work folder, runner default when absent
 * @param backoff the back-off after failed iterations
 * @param prefetch at most this many registrations prepared ahead; the loop uses one while VMs
 *     outlive a GitHub call, more only while it has to wait for GitHub
 */
public record RunnerConfig(
    GitHubTarget target,
    RunnerScope scope,
    Credentials credentials,
    RegistrationMode registration,
    String group,
    List<String> labels,
    String namePrefix,
    String image,
    PullPolicy pull,
    int cpus,
    int memoryMib,
    String dns,
    List<Mount> mounts,
    String entrypoint,
    Optional<String> developmentDirectory,
    Optional<Path> agentDistribution,
    String user,
    boolean update,
    int repeat,
    Optional<Duration> lifetime,
    Duration grace,
    Duration registrationTimeout,
    Optional<LoopSecret> secret,
    Map<String, String> guestEnvironment,
    Optional<String> network,
    Optional<String> workFolder,
    Backoff backoff,
    int prefetch) {

  /** The default image: the Ubuntu runner image with the agent. */
  public static final String DEFAULT_IMAGE = "ghcr.io/microrunner/microrunner-ubuntu:latest";

  /**
   * The images' entrypoint, spelled out because a VM's entrypoint is always given: their init (PID
   * 1, forwards signals to the agent) running the microrunner launcher's agent sub-command.
   */
  public static final String DEFAULT_ENTRYPOINT =
      "/usr/local/sbin/microrunner-init -- /opt/microrunner/bin/microrunner agent";

  /** Enough for VMs far shorter than a GitHub call (e.g. 10 ms VMs, 150 ms calls). */
  public static final int DEFAULT_PREFETCH = 8;

  public RunnerConfig {
    Objects.requireNonNull(target, "target (-g)");
    Objects.requireNonNull(scope, "scope (-s/-p)");
    Objects.requireNonNull(credentials, "credentials (RUNNER_PAT, --token-file or --app-id)");
    Objects.requireNonNull(registration, "registration");
    requireText(group, "runner group (-G)");
    labels = List.copyOf(labels);
    namePrefix = Objects.requireNonNull(namePrefix, "namePrefix");
    requireText(image, "image (-i)");
    Objects.requireNonNull(pull, "pull");
    if (cpus < 1) {
      throw new IllegalArgumentException("vCPUs (-c) must be at least 1, not " + cpus);
    }
    if (memoryMib < 64) {
      throw new IllegalArgumentException(
          "memory (-m) must be at least 64 MiB, not " + memoryMib + " MiB");
    }
    requireText(dns, "DNS server (-d)");
    mounts = List.copyOf(mounts);
    requireText(entrypoint, "entrypoint (--entrypoint)");
    Objects.requireNonNull(developmentDirectory, "developmentDirectory");
    developmentDirectory.ifPresent(
        dir -> {
          if (!dir.startsWith("/")) {
            throw new IllegalArgumentException(
                "development directory (-D) must be an absolute path in the VM, not '" + dir + "'");
          }
        });
    Objects.requireNonNull(agentDistribution, "agentDistribution");
    if (developmentDirectory.isPresent() && agentDistribution.isEmpty()) {
      // Caught here, not when the first VM starts: the loop would back off on it forever.
      throw new IllegalArgumentException(
          "development directory (-D) needs the host's agent distribution, the directory of"
              + " microrunner.jar and agent (--agent-dist)");
    }
    requireText(user, "user (-u)");
    Objects.requireNonNull(lifetime, "lifetime");
    lifetime.ifPresent(l -> requirePositive(l, "lifetime (-k)"));
    requirePositiveOrZero(grace, "grace period (--grace)");
    requirePositive(registrationTimeout, "registration timeout (--registration-timeout)");
    Objects.requireNonNull(secret, "secret");
    guestEnvironment = Map.copyOf(guestEnvironment);
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(workFolder, "workFolder");
    Objects.requireNonNull(backoff, "backoff");
    if (prefetch < 1 || prefetch > 64) {
      throw new IllegalArgumentException("--prefetch must be between 1 and 64, not " + prefetch);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.target = target;
    b.scope = scope;
    b.credentials = credentials;
    b.registration = registration;
    b.group = group;
    b.labels = new ArrayList<>(labels);
    b.namePrefix = namePrefix;
    b.image = image;
    b.pull = pull;
    b.cpus = cpus;
    b.memoryMib = memoryMib;
    b.dns = dns;
    b.mounts = new ArrayList<>(mounts);
    b.entrypoint = entrypoint;
    b.developmentDirectory = developmentDirectory;
    b.agentDistribution = agentDistribution;
    b.user = user;
    b.update = update;
    b.repeat = repeat;
    b.lifetime = lifetime;
    b.grace = grace;
    b.registrationTimeout = registrationTimeout;
    b.secret = secret;
    b.guestEnvironment = new LinkedHashMap<>(guestEnvironment);
    b.network = network;
    b.workFolder = workFolder;
    b.backoff = backoff;
    b.prefetch = prefetch;
    return b;
  }

  /** The distribution the image is of, guessed from its name: {@code fedora} or {@code ubuntu}. */
  public String distribution() {
    return image.toLowerCase(Locale.ROOT).contains("fedora") ? "fedora" : "ubuntu";
  }

  /** The labels runners get: {@link #labels()} or the defaults. */
  public List<String> effectiveLabels() {
    return labels.isEmpty() ? List.of("self-hosted", "krun", distribution()) : labels;
  }

  /** The name of the runner with this id. */
  public String runnerName(String runnerId) {
    String prefix = namePrefix.isEmpty() ? distribution() + "-krun" : namePrefix;
    return prefix + "-" + runnerId;
  }

  /** The program the VM runs: {@code <-D dir>/agent}, or the first word of the entrypoint. */
  public String effectiveEntrypoint() {
    return developmentDirectory
        .map(dir -> stripTrailingSlash(dir) + "/agent")
        .orElse(entrypoint.trim().split("\\s+")[0]);
  }

  /** The arguments before {@code -E}: the entrypoint's further words (none with {@code -D}). */
  public List<String> entrypointArguments() {
    if (developmentDirectory.isPresent()) {
      return List.of();
    }
    String[] words = entrypoint.trim().split("\\s+");
    return List.of(words).subList(1, words.length);
  }

  private static String stripTrailingSlash(String dir) {
    return dir.length() > 1 && dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
  }

  private static void requirePositive(Duration value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, not " + value.toSeconds());
    }
  }

  private static void requirePositiveOrZero(Duration value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isNegative()) {
      throw new IllegalArgumentException(what + " must not be negative");
    }
  }

  /** Builds a {@link RunnerConfig}; defaults are those of the command line. */
  public static final class Builder {
    private GitHubTarget target;
    private RunnerScope scope;
    private Credentials credentials;
    private RegistrationMode registration = RegistrationMode.JIT;
    private String group = "Default";
    private List<String> labels = new ArrayList<>();
    private String namePrefix = "";
    private String image = DEFAULT_IMAGE;
    private PullPolicy pull = PullPolicy.MISSING;
    private int cpus = 2;
    private int memoryMib = 1024;
    private String dns = "1.1.1.1";
    private List<Mount> mounts = new ArrayList<>();
    private String entrypoint = DEFAULT_ENTRYPOINT;
    private Optional<String> developmentDirectory = Optional.empty();
    private Optional<Path> agentDistribution = Optional.empty();
    private String user = "runner";
    private boolean update;
    private int repeat = -1;
    private Optional<Duration> lifetime = Optional.empty();
    private Duration grace = Duration.ofSeconds(30);
    private Duration registrationTimeout = Duration.ofMinutes(5);
    private Optional<LoopSecret> secret = Optional.empty();
    private Map<String, String> guestEnvironment = new LinkedHashMap<>();
    private Optional<String> network = Optional.empty();
    private Optional<String> workFolder = Optional.empty();
    private Backoff backoff = Backoff.DEFAULT;
    private int prefetch = DEFAULT_PREFETCH;

    private Builder() {}

    public Builder target(GitHubTarget target) {
      this.target = target;
      return this;
    }

    public Builder scope(RunnerScope scope) {
      this.scope = scope;
      return this;
    }

    public Builder credentials(Credentials credentials) {
      this.credentials = credentials;
      return this;
    }

    public Builder registration(RegistrationMode registration) {
      this.registration = registration;
      return this;
    }

    public Builder group(String group) {
      this.group = group;
      return this;
    }

    public Builder labels(List<String> labels) {
      this.labels = new ArrayList<>(labels);
      return this;
    }

    public Builder namePrefix(String namePrefix) {
      this.namePrefix = namePrefix;
      return this;
    }

    public Builder image(String image) {
      this.image = image;
      return this;
    }

    public Builder pull(PullPolicy pull) {
      this.pull = pull;
      return this;
    }

    public Builder cpus(int cpus) {
      this.cpus = cpus;
      return this;
    }

    public Builder memoryMib(int memoryMib) {
      this.memoryMib = memoryMib;
      return this;
    }

    public Builder dns(String dns) {
      this.dns = dns;
      return this;
    }

    public Builder mounts(List<Mount> mounts) {
      this.mounts = new ArrayList<>(mounts);
      return this;
    }

    public Builder entrypoint(String entrypoint) {
      this.entrypoint = entrypoint;
      return this;
    }

    public Builder developmentDirectory(Optional<String> developmentDirectory) {
      this.developmentDirectory = developmentDirectory;
      return this;
    }

    public Builder agentDistribution(Optional<Path> agentDistribution) {
      this.agentDistribution = agentDistribution;
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

    public Builder repeat(int repeat) {
      this.repeat = repeat;
      return this;
    }

    public Builder lifetime(Optional<Duration> lifetime) {
      this.lifetime = lifetime;
      return this;
    }

    public Builder grace(Duration grace) {
      this.grace = grace;
      return this;
    }

    public Builder registrationTimeout(Duration registrationTimeout) {
      this.registrationTimeout = registrationTimeout;
      return this;
    }

    public Builder secret(Optional<LoopSecret> secret) {
      this.secret = secret;
      return this;
    }

    public Builder guestEnvironment(Map<String, String> guestEnvironment) {
      this.guestEnvironment = new LinkedHashMap<>(guestEnvironment);
      return this;
    }

    public Builder network(Optional<String> network) {
      this.network = network;
      return this;
    }

    public Builder workFolder(Optional<String> workFolder) {
      this.workFolder = workFolder;
      return this;
    }

    public Builder backoff(Backoff backoff) {
      this.backoff = backoff;
      return this;
    }

    public Builder prefetch(int prefetch) {
      this.prefetch = prefetch;
      return this;
    }

    public RunnerConfig build() {
      return new RunnerConfig(
          target,
          scope,
          credentials,
          registration,
          group,
          labels,
          namePrefix,
          image,
          pull,
          cpus,
          memoryMib,
          dns,
          mounts,
          entrypoint,
          developmentDirectory,
          agentDistribution,
          user,
          update,
          repeat,
          lifetime,
          grace,
          registrationTimeout,
          secret,
          guestEnvironment,
          network,
          workFolder,
          backoff,
          prefetch);
    }
  }
}
