package dev.microrunner.loop;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.vm.InvalidSpecException;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.VmSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What every runner of a loop looks like and how the loop behaves: how runners register at GitHub,
 * the VM they run in (a {@link VmSpec} template that each runner's VM is made from), and the loop's
 * policy. Built with {@link #builder()}; the orchestrator hands the same configuration to each of
 * its loops. Invalid values raise an {@link InvalidSettingException} naming the setting.
 *
 * @param target the GitHub server
 * @param scope the repository, organisation or enterprise the runners serve
 * @param credentials how the host authenticates at GitHub; never leaves the host
 * @param registration JIT config (default) or registration token
 * @param group the runner group name
 * @param labels the runner labels; empty means {@code self-hosted,krun,<distro>}
 * @param namePrefix runner names are {@code <namePrefix>-<runner id>}; empty means {@code
 *     <distro>-krun}
 * @param user the user that runs the runner inside the VM
 * @param update let the runner update itself
 * @param workFolder the runner's work folder, runner default when absent
 * @param vm the VM of every runner: image, size, mounts, entrypoint and its leading arguments (the
 *     loop adds the {@code /_environment} mount and {@code -E <env file> -k <token file>}), network
 *     and environment (never a secret); its name is replaced per runner
 * @param pull when to pull the image, once when the loop starts (never per iteration)
 * @param repeat how many runners the loop creates before it ends; negative means forever
 * @param lifetime end the loop after this long
 * @param grace how long a VM has to end after {@code .trm} before it is stopped
 * @param registrationTimeout how long a VM may take to publish {@code .tkn}
 * @param secret the loop secret; absent means a fresh random one per loop
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
    String user,
    boolean update,
    Optional<String> workFolder,
    VmSpec vm,
    PullPolicy pull,
    int repeat,
    Optional<Duration> lifetime,
    Duration grace,
    Duration registrationTimeout,
    Optional<LoopSecret> secret,
    Backoff backoff,
    int prefetch) {

  /**
   * The agent's stop grace ({@link AgentConfig#DEFAULT_STOP_GRACE}: actions/runner's 30 s to cancel
   * a job and report it, and a margin) and ten seconds for the VM to shut down.
   */
  public static final Duration DEFAULT_GRACE = AgentConfig.DEFAULT_STOP_GRACE.plusSeconds(10);

  /** The default image: the Ubuntu runner image with the agent. */
  public static final String DEFAULT_IMAGE = "ghcr.io/microrunner/microrunner-ubuntu:latest";

  /**
   * The images' entrypoint, spelled out because a VM's entrypoint is always given: their init (PID
   * 1, forwards signals to the agent) running the microrunner launcher's agent sub-command.
   */
  public static final String DEFAULT_ENTRYPOINT =
      "/usr/local/sbin/microrunner-init -- /opt/microrunner/bin/microrunner agent";

  /**
   * Enough for VMs far shorter than a GitHub call (e.g. 10 ms VMs, 150 ms calls, with room for
   * their jitter); a loop only goes that deep while it has to wait for GitHub.
   */
  public static final int DEFAULT_PREFETCH = 32;

  /** The name of the VM template; each runner's VM is named after the runner instead. */
  static final String VM_TEMPLATE_NAME = "runner";

  /** VMs smaller than this do not boot an image with the agent. */
  private static final int MINIMUM_MEMORY_MIB = 64;

  public RunnerConfig {
    Objects.requireNonNull(target, "github");
    Objects.requireNonNull(scope, "principal");
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(registration, "registration");
    requireText(group, "group");
    labels = List.copyOf(labels);
    Objects.requireNonNull(namePrefix, "name-prefix");
    requireText(user, "user");
    Objects.requireNonNull(workFolder, "workFolder");
    Objects.requireNonNull(vm, "vm");
    if (vm.memoryMib() < MINIMUM_MEMORY_MIB) {
      throw new InvalidSettingException(
          "memory",
          "must be at least " + MINIMUM_MEMORY_MIB + " MiB, not " + vm.memoryMib() + " MiB");
    }
    Objects.requireNonNull(pull, "pull");
    Objects.requireNonNull(lifetime, "lifetime");
    if (lifetime.isPresent()) {
      requirePositive(lifetime.get(), "lifetime");
    }
    requirePositiveOrZero(grace, "grace");
    requirePositive(registrationTimeout, "registration-timeout");
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(backoff, "backoff");
    if (prefetch < 1 || prefetch > 64) {
      throw new InvalidSettingException("prefetch", "must be between 1 and 64, not " + prefetch);
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
    b.user = user;
    b.update = update;
    b.workFolder = workFolder;
    b.vm = vm.toBuilder();
    b.pull = pull;
    b.repeat = repeat;
    b.lifetime = lifetime;
    b.grace = grace;
    b.registrationTimeout = registrationTimeout;
    b.secret = secret;
    b.backoff = backoff;
    b.prefetch = prefetch;
    return b;
  }

  /** The distribution the image is of, guessed from its name: {@code fedora} or {@code ubuntu}. */
  public String distribution() {
    return vm.image().toLowerCase(Locale.ROOT).contains("fedora") ? "fedora" : "ubuntu";
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

  private static void requireText(String value, String setting) {
    if (value == null || value.isBlank()) {
      throw new InvalidSettingException(setting, "must not be empty");
    }
  }

  private static void requirePositive(Duration value, String setting) {
    Objects.requireNonNull(value, setting);
    if (value.isNegative() || value.isZero()) {
      throw new InvalidSettingException(setting, "must be positive, not " + value.toSeconds());
    }
  }

  private static void requirePositiveOrZero(Duration value, String setting) {
    Objects.requireNonNull(value, setting);
    if (value.isNegative()) {
      throw new InvalidSettingException(setting, "must not be negative");
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
    private String user = "runner";
    private boolean update;
    private Optional<String> workFolder = Optional.empty();
    private VmSpec.Builder vm = defaultVm();
    private PullPolicy pull = PullPolicy.MISSING;
    private int repeat = -1;
    private Optional<Duration> lifetime = Optional.empty();
    private Duration grace = DEFAULT_GRACE;
    private Duration registrationTimeout = Duration.ofMinutes(5);
    private Optional<LoopSecret> secret = Optional.empty();
    private Backoff backoff = Backoff.DEFAULT;
    private int prefetch = DEFAULT_PREFETCH;

    private Builder() {}

    private static VmSpec.Builder defaultVm() {
      List<String> entrypoint = List.of(DEFAULT_ENTRYPOINT.split(" "));
      return VmSpec.builder()
          .name(VM_TEMPLATE_NAME)
          .image(DEFAULT_IMAGE)
          .entrypoint(entrypoint.get(0))
          .args(entrypoint.subList(1, entrypoint.size()));
    }

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

    public Builder user(String user) {
      this.user = user;
      return this;
    }

    public Builder update(boolean update) {
      this.update = update;
      return this;
    }

    public Builder workFolder(Optional<String> workFolder) {
      this.workFolder = workFolder;
      return this;
    }

    /**
     * Changes the VM template, which starts as 2 vCPUs, 1024 MiB, DNS 1.1.1.1, {@link
     * #DEFAULT_IMAGE} and {@link #DEFAULT_ENTRYPOINT}.
     */
    public Builder vm(Consumer<VmSpec.Builder> change) {
      change.accept(vm);
      return this;
    }

    /**
     * Runs the host's agent in the VM instead of the image's (development): {@code distribution},
     * the host directory of {@code microrunner.jar} and its {@code agent} launcher, is mounted
     * read-only at {@code guestDirectory}, whose {@code agent} becomes the entrypoint.
     */
    public Builder agentFromHost(Path distribution, String guestDirectory) {
      if (!guestDirectory.startsWith("/")) {
        throw new InvalidSettingException(
            "dev-dir", "must be an absolute path in the VM, not '" + guestDirectory + "'");
      }
      String directory =
          guestDirectory.length() > 1 && guestDirectory.endsWith("/")
              ? guestDirectory.substring(0, guestDirectory.length() - 1)
              : guestDirectory;
      vm.mount(new Mount(distribution, directory, true)).entrypoint(directory + "/agent").args();
      return this;
    }

    public Builder pull(PullPolicy pull) {
      this.pull = pull;
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

    public Builder backoff(Backoff backoff) {
      this.backoff = backoff;
      return this;
    }

    public Builder prefetch(int prefetch) {
      this.prefetch = prefetch;
      return this;
    }

    /**
     * The configuration, checked.
     *
     * @throws InvalidSettingException when a value is impossible, naming the setting
     */
    public RunnerConfig build() {
      VmSpec template;
      try {
        template = vm.build();
      } catch (InvalidSpecException e) {
        throw new InvalidSettingException(settingOf(e.field()), e.problem(), e);
      }
      return new RunnerConfig(
          target,
          scope,
          credentials,
          registration,
          group,
          labels,
          namePrefix,
          user,
          update,
          workFolder,
          template,
          pull,
          repeat,
          lifetime,
          grace,
          registrationTimeout,
          secret,
          backoff,
          prefetch);
    }

    /** The runner setting a VM template field comes from. */
    private static String settingOf(String vmField) {
      return switch (vmField) {
        case "memoryMib" -> "memory";
        case "environment" -> "env";
        default -> vmField;
      };
    }
  }
}
