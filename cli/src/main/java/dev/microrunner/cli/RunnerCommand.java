package dev.microrunner.cli;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RegistrationMode;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code microrunner runner [options] [-- LOOP]}: one runner loop. Its options are also what the
 * orchestrator takes after {@code --} and hands to each of its loops in-process.
 */
@Command(
    name = "runner",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    showEndOfOptionsDelimiterInUsageHelp = true,
    description = {
      "Runs one runner loop: one ephemeral GitHub runner at a time, each in a fresh VM.",
      "Options win over the variables named with them; -h shows the variables' current values"
          + " (never a secret).",
      "Logging: RUNNER_LOG (-l), now: ${env:RUNNER_LOG:-stderr}; RUNNER_VERBOSE (-v), now:"
          + " ${env:RUNNER_VERBOSE:-0}.",
    })
public final class RunnerCommand implements Callable<Integer> {

  @Option(
      names = {"-c", "--cpus"},
      defaultValue = "${env:RUNNER_CPUS:-2}",
      description = "vCPUs per VM. RUNNER_CPUS, now: ${DEFAULT-VALUE}.")
  int cpus;

  @Option(
      names = {"-m", "--memory"},
      paramLabel = "MiB",
      defaultValue = "${env:RUNNER_MEMORY:-1024}",
      description = "Memory per VM in MiB. RUNNER_MEMORY, now: ${DEFAULT-VALUE}.")
  int memory;

  @Option(
      names = {"-d", "--dns"},
      defaultValue = "${env:RUNNER_DNS:-1.1.1.1}",
      description = "DNS server in the VM. RUNNER_DNS, now: ${DEFAULT-VALUE}.")
  String dns;

  @Option(
      names = {"-D", "--dev-dir"},
      paramLabel = "DIR",
      defaultValue = "${env:RUNNER_DIR}",
      description =
          "Development: mount the host's agent distribution (the directory of microrunner.jar)"
              + " read-only at DIR in the VM and run DIR/agent. RUNNER_DIR, now:"
              + " ${env:RUNNER_DIR:-unset}.")
  String developmentDirectory;

  @Option(
      names = "--agent-dist",
      paramLabel = "DIR",
      defaultValue = "${env:RUNNER_AGENT_DIST}",
      description =
          "The host's agent distribution for -D; default: the directory of this jar."
              + " RUNNER_AGENT_DIST, now: ${env:RUNNER_AGENT_DIST:-unset}.")
  Path agentDistribution;

  @Option(
      names = {"-g", "--github"},
      paramLabel = "HOST",
      defaultValue = "${env:RUNNER_GITHUB:-github.com}",
      description =
          "GitHub host (GHES: its host name; or a full API URL). RUNNER_GITHUB, now:"
              + " ${DEFAULT-VALUE}.")
  String github;

  @Option(
      names = {"-G", "--group"},
      defaultValue = "${env:RUNNER_GROUP:-Default}",
      description = "Runner group. RUNNER_GROUP, now: ${DEFAULT-VALUE}.")
  String group;

  @Option(
      names = {"-i", "--image"},
      defaultValue = "${env:RUNNER_IMAGE:-" + RunnerConfig.DEFAULT_IMAGE + "}",
      description = "OCI image of the VMs. RUNNER_IMAGE, now: ${DEFAULT-VALUE}.")
  String image;

  @Option(
      names = {"-k", "--lifetime"},
      paramLabel = "SECONDS",
      defaultValue = "${env:RUNNER_TERMINATE}",
      description =
          "End the loop after SECONDS (the running VM gets .trm, then --grace). RUNNER_TERMINATE,"
              + " now: ${env:RUNNER_TERMINATE:-unset}.")
  Long lifetime;

  @Option(
      names = {"-L", "--labels"},
      defaultValue = "${env:RUNNER_LABELS}",
      description =
          "Comma-separated runner labels (default self-hosted,krun,<distro>). RUNNER_LABELS, now:"
              + " ${env:RUNNER_LABELS:-unset}.")
  String labels;

  @Option(
      names = {"-M", "--mount"},
      paramLabel = "HOST:VM[:ro]",
      description =
          "Mount a host directory in the VM; repeatable. RUNNER_MOUNT (space-separated), now:"
              + " ${env:RUNNER_MOUNT:-unset}.")
  List<String> mounts = new ArrayList<>();

  @Option(
      names = {"-p", "--principal"},
      defaultValue = "${env:RUNNER_PRINCIPAL}",
      description =
          "owner/repo, organisation or enterprise the runners serve. RUNNER_PRINCIPAL, now:"
              + " ${env:RUNNER_PRINCIPAL:-unset}.")
  String principal;

  @Option(
      names = {"-r", "--repeat"},
      defaultValue = "${env:RUNNER_REPEAT:--1}",
      description =
          "Runners to create before the loop ends with status 0; -1: forever. RUNNER_REPEAT, now:"
              + " ${DEFAULT-VALUE}.")
  int repeat;

  @Option(
      names = {"-R", "--runtime"},
      defaultValue = "${env:RUNNER_RUNTIME:-auto}",
      description =
          "VM runtime: auto, podman+krun, krunvm, podman+crun, podman+runc, qemu, process."
              + " RUNNER_RUNTIME, now: ${DEFAULT-VALUE}.")
  String runtime;

  @Option(
      names = {"-s", "--scope"},
      defaultValue = "${env:RUNNER_SCOPE:-repo}",
      description = "repo, org or enterprise. RUNNER_SCOPE, now: ${DEFAULT-VALUE}.")
  String scope;

  @Option(
      names = {"-S", "--secret"},
      description =
          "The loop secret (at least 22 base64url characters). Prefer RUNNER_SECRET; by default a"
              + " random 256-bit secret per loop.")
  String secret;

  @Mixin CredentialOptions credentials = new CredentialOptions();

  @Option(
      names = {"-u", "--user"},
      defaultValue = "${env:RUNNER_USER:-runner}",
      description = "User that runs the runner in the VM. RUNNER_USER, now: ${DEFAULT-VALUE}.")
  String user;

  @Option(
      names = {"-U", "--update"},
      description = "Let the runner update itself. RUNNER_UPDATE, now: ${env:RUNNER_UPDATE:-0}.")
  boolean update;

  @Option(
      names = "--entrypoint",
      paramLabel = "PATH",
      defaultValue = "${env:RUNNER_ENTRYPOINT:-" + RunnerConfig.DEFAULT_ENTRYPOINT + "}",
      description = "The command the VM runs. RUNNER_ENTRYPOINT, now: ${DEFAULT-VALUE}.")
  String entrypoint;

  @Option(
      names = "--registration",
      paramLabel = "jit|token",
      defaultValue = "${env:RUNNER_REGISTRATION:-jit}",
      description =
          "jit: a just-in-time config per runner; token: a registration token for config.sh."
              + " RUNNER_REGISTRATION, now: ${DEFAULT-VALUE}.")
  String registration;

  @Option(
      names = "--grace",
      paramLabel = "SECONDS",
      defaultValue = "${env:RUNNER_GRACE:-45}",
      description =
          "How long a VM has to end after .trm before it is stopped: a busy runner cancels its"
              + " job and reports it, which actions/runner allows 30 s. RUNNER_GRACE, now:"
              + " ${DEFAULT-VALUE}.")
  long grace;

  @Option(
      names = "--registration-timeout",
      paramLabel = "SECONDS",
      defaultValue = "${env:RUNNER_REGISTRATION_TIMEOUT:-300}",
      description =
          "How long a VM may take to register. RUNNER_REGISTRATION_TIMEOUT, now:"
              + " ${DEFAULT-VALUE}.")
  long registrationTimeout;

  @Option(
      names = "--pull",
      paramLabel = "missing|always|never",
      defaultValue = "${env:RUNNER_PULL:-missing}",
      description = "When to pull the image, once per start. RUNNER_PULL, now: ${DEFAULT-VALUE}.")
  String pull;

  @Option(
      names = "--prefetch",
      paramLabel = "N",
      defaultValue = "${env:RUNNER_PREFETCH:-" + RunnerConfig.DEFAULT_PREFETCH + "}",
      description =
          "At most N registrations obtained ahead from GitHub; one is used while VMs outlive a"
              + " GitHub call. RUNNER_PREFETCH, now: ${DEFAULT-VALUE}.")
  int prefetch;

  @Option(
      names = "--network",
      defaultValue = "${env:RUNNER_NETWORK}",
      description = "VM network, e.g. host. RUNNER_NETWORK, now: ${env:RUNNER_NETWORK:-unset}.")
  String network;

  @Option(
      names = "--name-prefix",
      defaultValue = "${env:RUNNER_NAME_PREFIX}",
      description =
          "Runner names are PREFIX-<id> (default <distro>-krun). RUNNER_NAME_PREFIX, now:"
              + " ${env:RUNNER_NAME_PREFIX:-unset}.")
  String namePrefix;

  @Option(
      names = "--env",
      paramLabel = "NAME=VALUE",
      description = "Environment of the VM's entrypoint (never a secret); repeatable.")
  Map<String, String> guestEnvironment = new LinkedHashMap<>();

  @Option(
      names = "--prefix",
      defaultValue = "${env:ORCHESTRATOR_PREFIX:-GH-runner}",
      description = "VM name prefix. ORCHESTRATOR_PREFIX, now: ${DEFAULT-VALUE}.")
  String prefix;

  @Mixin StateDirectoryOption stateDirectory = new StateDirectoryOption();

  @Mixin QemuOptions qemu = new QemuOptions();

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "LOOP",
      defaultValue = "1",
      description = "The loop number (names runners <LOOP>-<random>).")
  int loop;

  @Override
  public Integer call() throws Exception {
    Map<String, String> environment = System.getenv();
    logging.apply("RUNNER", environment);
    OrchestratorConfig config =
        OrchestratorConfig.builder(toConfig(environment, logging.redactor()))
            .loops(1)
            .firstLoop(loop)
            .prefix(prefix)
            .runtime(runtime)
            .stateDirectory(stateDirectory.resolve(environment))
            .runtimeEnvironment(qemu.runtimeEnvironment())
            .build();
    return OrchestratorCommand.runUntilDone(
        Orchestrator.builder(config).redactor(logging.redactor()).build(), logging.redactor());
  }

  /**
   * The loop configuration these options describe. The secrets among them (token, loop secret) go
   * into {@code redactor}.
   */
  RunnerConfig toConfig(Map<String, String> environment, Redactor redactor) throws GitHubException {
    return toConfig(environment, redactor, credentials.resolve(environment, redactor));
  }

  /** As {@link #toConfig(Map, Redactor)}, with credentials found elsewhere (a pool's). */
  RunnerConfig toConfig(
      Map<String, String> environment, Redactor redactor, Credentials githubCredentials) {
    if (principal == null || principal.isBlank()) {
      throw new InvalidSettingException(
          "principal", "is missing: give OWNER/REPO, ORG or ENTERPRISE (RUNNER_PRINCIPAL)");
    }
    Optional<LoopSecret> loopSecret = Optional.empty();
    String secretValue = secret != null ? secret : environment.get("RUNNER_SECRET");
    if (secretValue != null && !secretValue.isBlank()) {
      redactor.add(secretValue);
      try {
        loopSecret = Optional.of(LoopSecret.of(secretValue.strip()));
      } catch (IllegalArgumentException e) {
        throw new InvalidSettingException(
            "secret", "(RUNNER_SECRET) is not usable: " + e.getMessage(), e);
      }
    }
    List<String> mountSpecs = new ArrayList<>(mounts);
    String mountVariable = environment.get("RUNNER_MOUNT");
    if (mounts.isEmpty() && mountVariable != null && !mountVariable.isBlank()) {
      mountSpecs.addAll(Arrays.asList(mountVariable.trim().split("\\s+")));
    }
    List<Mount> parsedMounts = mountSpecs.stream().map(RunnerCommand::parseMount).toList();
    List<String> command = List.of(entrypoint.trim().split("\\s+"));
    RunnerConfig.Builder config =
        RunnerConfig.builder()
            .target(setting("github", () -> GitHubTarget.of(github)))
            .scope(setting("scope", () -> RunnerScope.of(scope, principal)))
            .credentials(githubCredentials)
            .registration(setting("registration", () -> RegistrationMode.parse(registration)))
            .group(group)
            .labels(labels == null || labels.isBlank() ? List.of() : splitLabels(labels))
            .namePrefix(namePrefix == null ? "" : namePrefix)
            .pull(parsePull(pull))
            .vm(
                vm -> {
                  vm.image(image)
                      .cpus(cpus)
                      .memoryMib(memory)
                      .dns(dns)
                      .entrypoint(command.get(0))
                      .args(command.subList(1, command.size()))
                      .environment(guestEnvironment);
                  parsedMounts.forEach(vm::mount);
                  Optional.ofNullable(network).filter(n -> !n.isBlank()).ifPresent(vm::network);
                })
            .user(user)
            .update(update || isTrue(environment.get("RUNNER_UPDATE")))
            .repeat(repeat)
            .lifetime(Optional.ofNullable(lifetime).map(Duration::ofSeconds))
            .grace(Duration.ofSeconds(grace))
            .registrationTimeout(Duration.ofSeconds(registrationTimeout))
            .secret(loopSecret)
            .prefetch(prefetch);
    if (developmentDirectory != null && !developmentDirectory.isBlank()) {
      Path distribution =
          Optional.ofNullable(agentDistribution)
              .or(RunnerCommand::runningJarDirectory)
              .orElseThrow(
                  // Caught here, not when the first VM starts: the loop would back off forever.
                  () ->
                      new InvalidSettingException(
                          "agent-dist",
                          "is needed by -D: the directory of microrunner.jar and agent"));
      config.agentFromHost(distribution, developmentDirectory);
    }
    return config.build();
  }

  /** A value parsed from a setting, with a failure named after the setting. */
  private static <T> T setting(String name, java.util.function.Supplier<T> parse) {
    try {
      return parse.get();
    } catch (InvalidSettingException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new InvalidSettingException(name, e.getMessage(), e);
    }
  }

  private static List<String> splitLabels(String labels) {
    return Arrays.stream(labels.split(",")).map(String::trim).filter(l -> !l.isEmpty()).toList();
  }

  private static PullPolicy parsePull(String value) {
    try {
      return PullPolicy.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InvalidSettingException(
          "pull", "must be missing, always or never, not '" + value + "'", e);
    }
  }

  static Mount parseMount(String spec) {
    String[] parts = spec.split(":", -1);
    if (parts.length < 2
        || parts.length > 3
        || (parts.length == 3 && !parts[2].equals("ro") && !parts[2].equals("rw"))) {
      throw new InvalidSettingException(
          "mount", "'" + spec + "' must be HOST:VM or HOST:VM:ro, with absolute paths");
    }
    Path host = Path.of(parts[0]);
    if (!host.isAbsolute() || !parts[1].startsWith("/")) {
      throw new InvalidSettingException(
          "mount", "'" + spec + "' must use absolute paths on both sides");
    }
    if (!Files.exists(host)) {
      throw new InvalidSettingException("mount", "'" + spec + "': " + host + " does not exist");
    }
    return new Mount(host, parts[1], parts.length == 3 && parts[2].equals("ro"));
  }

  static boolean isTrue(String value) {
    return value != null
        && List.of("1", "true", "yes", "on").contains(value.trim().toLowerCase(Locale.ROOT));
  }

  /** The directory of the jar this class was loaded from, if it was loaded from a jar. */
  static Optional<Path> runningJarDirectory() {
    try {
      Path location =
          Path.of(RunnerCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      return Files.isRegularFile(location) ? Optional.of(location.getParent()) : Optional.empty();
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
