package dev.microrunner.loop;

import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.handshake.EnvFile;
import dev.microrunner.handshake.GuestHandshake;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.handshake.TerminationWatch;
import dev.microrunner.loop.internal.ListenerOutput;
import dev.microrunner.vm.ChildEnvironment;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.EnvironmentMount;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entrypoint inside the VM: reads and deletes {@code <id>.env}, registers the runner (JIT:
 * nothing to do; token: {@code config.sh}), starts actions/runner's listener, publishes {@code
 * <id>.tkn} once the listener listens for jobs, reports the runner's state and how it ended in
 * {@code <id>.sta}, stops the runner when {@code <id>.trm} holds the secret, and writes {@code
 * <id>.brk} when the VM is told to stop ({@link #signalled()}, called by the command's
 * SIGINT/SIGTERM handler).
 *
 * <p>The listener ({@code bin/Runner.Listener run}) is started directly, not through {@code
 * run.sh}: run.sh reports most of the listener's exit statuses as 0 and, unless {@code
 * RUNNER_MANUALLY_TRAP_SIG} is set, never passes a signal on (actions/runner v2.336.0, {@code
 * src/Misc/layoutroot/run.sh}). Started directly, as the runner's user through {@code setpriv},
 * which leaves no process between the agent and the listener, a stop is SIGTERM to the listener
 * alone: upstream's handler then cancels the job and reports it within 30 s ({@code
 * Runner.Listener/Runner.cs}, {@code Constants.Runner.ExitOnUnloadTimeout}), and only after {@link
 * AgentConfig#stopGrace()} is what is left killed.
 *
 * <p>Secrets go to the one child that needs them through its environment ({@code
 * ACTIONS_RUNNER_INPUT_JITCONFIG} for the listener, {@code ACTIONS_RUNNER_INPUT_TOKEN} for {@code
 * config.sh}), never through argv. Children run through vm-launcher's {@link CommandRunner}; their
 * output and errors go to this process's stdout (the VM console) line by line.
 */
public final class Agent {

  private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

  private static final Path DEFAULT_DOCKER_SOCKET = Path.of("/var/run/docker.sock");
  private static final Duration DOCKER_SOCKET_TIMEOUT = Duration.ofSeconds(60);

  /** Exit status when the agent is told to stop before the runner started. */
  public static final int STATUS_SIGNALLED = 143;

  private static final CommandRunner COMMANDS = CommandRunner.commonsExec();

  /** actions/runner's listener, in its installation. */
  private static final String LISTENER = "bin/Runner.Listener";

  private final AgentConfig config;
  private final Map<String, String> environment;
  private final String currentUser;
  private final Path dockerSocket;
  private final PrintStream stdout;
  private final Object lock = new Object();
  private GuestHandshake handshake;
  private LoopSecret secret;
  private Running runner;
  private boolean stopping;
  private boolean terminatedByHost;
  private Path privateCopy;
  private Running dockerService;
  private final ListenerOutput output = new ListenerOutput();
  private boolean registrationPublished;

  /**
   * @param environment this process's environment (where {@code RUNNER_INSTALL} is looked up, and
   *     what children are given)
   * @param currentUser the user this process runs as
   */
  public Agent(AgentConfig config, Map<String, String> environment, String currentUser) {
    this(config, environment, currentUser, DEFAULT_DOCKER_SOCKET);
  }

  Agent(AgentConfig config, Map<String, String> environment, String currentUser, Path socket) {
    this.config = config;
    this.environment = Map.copyOf(environment);
    this.currentUser = currentUser;
    this.dockerSocket = socket;
    this.stdout = console(System.out);
  }

  /** An agent for this process: its environment and user. */
  public static Agent forThisProcess(AgentConfig config) {
    return new Agent(config, System.getenv(), System.getProperty("user.name"));
  }

  /**
   * Runs the runner to its end.
   *
   * @return the runner's exit status; 0 when the host asked it to terminate
   */
  public int run() throws AgentException, IOException, InterruptedException {
    handshake = GuestHandshake.forEnvFile(config.envFile());
    Map<String, String> values = handshake.consumeEnv();
    String secretValue = values.get(EnvFile.RUNNER_SECRET);
    if (secretValue == null) {
      throw new AgentException(config.envFile() + " holds no " + EnvFile.RUNNER_SECRET);
    }
    synchronized (lock) {
      secret = LoopSecret.of(secretValue);
    }
    Settings settings = settings(values);
    LOG.info("Runner {} ({}) starting as {}", settings.name, handshake.runnerId(), settings.user);
    String jitConfig = values.get(EnvFile.RUNNER_JITCONFIG);
    String token = values.get(EnvFile.RUNNER_TOKEN);
    if ((jitConfig == null) == (token == null)) {
      throw new AgentException(
          config.envFile()
              + " must hold exactly one of "
              + EnvFile.RUNNER_JITCONFIG
              + " and "
              + EnvFile.RUNNER_TOKEN);
    }
    Optional<Path> install = locateInstall(token != null || config.command().isEmpty());
    Map<String, String> runnerEnvironment = new HashMap<>(environment);
    // actions/runner refuses root unless told otherwise; any other user must not inherit that.
    if (settings.user.equals("root")) {
      runnerEnvironment.put("RUNNER_ALLOW_RUNASROOT", "1");
    } else {
      runnerEnvironment.remove("RUNNER_ALLOW_RUNASROOT");
    }
    if (!settings.user.equals(currentUser)) {
      runnerEnvironment.putAll(loginEnvironment(settings.user));
    }
    // The diagnostic log would die with the VM; a refused version gets its own status.
    runnerEnvironment.put("ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT", "1");
    runnerEnvironment.put("ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE", "1");
    if (install.isPresent() && sharesInstall(install.get(), token != null)) {
      Path copy = privateCopy(install.get());
      LOG.info(
          "Runner files of {} go to a private copy of {}: {}", settings.name, install.get(), copy);
      install = Optional.of(copy);
    }
    publish(output.status());
    // Watched from now on: a .trm during config.sh or before the runner starts counts too.
    TerminationWatch watch =
        handshake.watchTermination(secret, config.pollInterval(), this::terminatedByHost);
    try {
      return runRunner(settings, install, jitConfig, token, runnerEnvironment);
    } finally {
      watch.close();
      if (privateCopy != null) {
        deleteTree(privateCopy);
      }
      if (dockerService != null) {
        dockerService.terminate(config.stopGrace());
      }
    }
  }

  private int runRunner(
      Settings settings,
      Optional<Path> install,
      String jitConfig,
      String token,
      Map<String, String> runnerEnvironment)
      throws AgentException, IOException, InterruptedException {
    if (token != null) {
      int status = configure(install.orElseThrow(), settings, token, runnerEnvironment);
      if (status != 0) {
        LOG.error("config.sh failed with status {}", status);
        publish(output.endedWithout(stopRequested(), "config.sh failed with status " + status));
        return status;
      }
    } else {
      runnerEnvironment.put("ACTIONS_RUNNER_INPUT_JITCONFIG", jitConfig);
    }
    startDockerService();
    boolean listener = config.command().isEmpty();
    List<String> command =
        listener
            ? List.of(install.orElseThrow().resolve(LISTENER).toString(), "run")
            : config.command();
    if (!listener) {
      // Another program says nothing the agent understands: it counts as registered once started.
      publishRegistration(settings);
    }
    synchronized (lock) {
      if (stopping) {
        publish(output.endedWithout(true, "stopped before the runner started"));
        return terminatedByHost ? 0 : STATUS_SIGNALLED;
      }
      runner =
          start(
              asUser(settings.user, command),
              install,
              runnerEnvironment,
              line -> onRunnerOutput(settings, line));
    }
    int status = runner.awaitExit();
    boolean asked = stopRequested();
    RunnerStatus ended;
    synchronized (output) {
      ended = output.ended(status, asked);
    }
    publish(ended);
    LOG.info(
        "Runner {} ended: {} (status {})",
        settings.name,
        ended.ending().orElseThrow().detail(),
        status);
    synchronized (lock) {
      if (terminatedByHost) {
        return 0;
      }
    }
    return status;
  }

  /** Relays a line of the runner's output to the console and learns from it what it says. */
  private void onRunnerOutput(Settings settings, String line) {
    stdout.println(line);
    synchronized (output) {
      boolean changed = output.accept(line);
      if (output.listening() && !registrationPublished) {
        publishRegistration(settings);
      }
      if (changed) {
        publish(output.status());
      }
    }
  }

  private void publishRegistration(Settings settings) {
    registrationPublished = true;
    try {
      handshake.publishRegistration("runner " + settings.name + " registered\n");
    } catch (IOException e) {
      LOG.warn("Could not publish the registration: {}", e.getMessage());
    }
  }

  /** Writes {@code .sta}; the host can do without one update, the runner goes on. */
  private void publish(RunnerStatus status) {
    try {
      handshake.publishStatus(status);
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("Could not publish the runner's status: {}", e.getMessage());
    }
  }

  private boolean stopRequested() {
    synchronized (lock) {
      return stopping;
    }
  }

  /**
   * The VM is told to stop (SIGINT, SIGTERM): write {@code .brk} so that the loop ends after this
   * VM, and stop the runner.
   */
  public void signalled() {
    synchronized (lock) {
      if (stopping) {
        return;
      }
      stopping = true;
      if (handshake != null && secret != null) {
        try {
          handshake.requestBreak(secret);
        } catch (IOException e) {
          LOG.warn("Could not write the break file: {}", e.getMessage());
        }
      }
    }
    stopRunner();
  }

  private void terminatedByHost() {
    synchronized (lock) {
      terminatedByHost = true;
      stopping = true;
    }
    LOG.info("The host asked runner {} to terminate", handshake.runnerId());
    stopRunner();
  }

  /**
   * SIGTERM to the runner's top process alone (the listener, which cancels its job), then SIGKILL
   * to what is left of its tree after the grace period.
   */
  private void stopRunner() {
    Running process;
    synchronized (lock) {
      process = runner;
    }
    if (process == null) {
      return;
    }
    synchronized (output) {
      publish(output.stopping());
    }
    try {
      if (!process.terminate(config.stopGrace())) {
        LOG.warn("Runner did not stop within {}; killed it", config.stopGrace());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * {@code podman system service} on the docker socket, given to the {@code docker} group, as the
   * images promise their jobs. Automatic only as root inside a VM: on a host (the process runtime)
   * it would take over the host's docker socket.
   */
  private void startDockerService() throws AgentException, IOException, InterruptedException {
    boolean inVm = inVm();
    Optional<Path> podman = Executables.find("podman", environment);
    boolean wanted =
        switch (config.dockerService()) {
          case ON -> true;
          case OFF -> false;
          case AUTO ->
              inVm
                  && currentUser.equals("root")
                  && podman.isPresent()
                  && !Files.exists(dockerSocket, LinkOption.NOFOLLOW_LINKS);
        };
    if (!wanted) {
      return;
    }
    LOG.info("Serving {} with podman for the jobs' docker commands", dockerSocket);
    String program =
        podman.orElseThrow(() -> new AgentException("podman is not installed")).toString();
    dockerService =
        start(
            List.of(program, "system", "service", "--time=0", "unix://" + dockerSocket),
            Optional.empty(),
            environment);
    long deadline = System.nanoTime() + DOCKER_SOCKET_TIMEOUT.toNanos();
    while (!Files.exists(dockerSocket, LinkOption.NOFOLLOW_LINKS)) {
      if (dockerService.exitStatus().isPresent() || System.nanoTime() - deadline > 0) {
        throw new AgentException(
            "podman system service did not create "
                + dockerSocket
                + " within "
                + DOCKER_SOCKET_TIMEOUT.toSeconds()
                + " s");
      }
      dockerService.awaitExit(Duration.ofMillis(50));
    }
    try {
      Files.setAttribute(
          dockerSocket,
          "posix:group",
          dockerSocket
              .getFileSystem()
              .getUserPrincipalLookupService()
              .lookupPrincipalByGroupName("docker"),
          LinkOption.NOFOLLOW_LINKS);
      Files.setPosixFilePermissions(dockerSocket, PosixFilePermissions.fromString("rw-rw----"));
    } catch (UserPrincipalNotFoundException e) {
      LOG.warn("No docker group: only root can use {}", dockerSocket);
    }
  }

  /**
   * Whether this runner must not write into {@code install}: outside a VM (the process runtime) the
   * installation serves every runner of the host, and the listener writes its {@code .runner} and
   * {@code .credentials} there, from the JIT config as from {@code config.sh}; in a VM, a token
   * runner's installation that is configured already would make {@code config.sh} refuse.
   */
  private boolean sharesInstall(Path install, boolean tokenMode) {
    return !inVm() || (tokenMode && Files.exists(install.resolve(".runner")));
  }

  private boolean inVm() {
    return handshake.directory().equals(Path.of(EnvironmentMount.GUEST_PATH));
  }

  private Path privateCopy(Path install) throws IOException {
    privateCopy = Files.createTempDirectory("microrunner-runner-");
    try (Stream<Path> files = Files.walk(install)) {
      for (Path source : files.toList()) {
        String name = source.getFileName() == null ? "" : source.getFileName().toString();
        if (name.equals(".runner") || name.equals(".credentials")) {
          continue;
        }
        Path target = privateCopy.resolve(install.relativize(source).toString());
        if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
        }
      }
    }
    return privateCopy;
  }

  private static void deleteTree(Path root) {
    try {
      PathUtils.deleteDirectory(root);
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", root, e.getMessage());
    }
  }

  private record Settings(
      String name,
      String labels,
      String group,
      String url,
      String user,
      boolean update,
      String workFolder) {}

  private Settings settings(Map<String, String> values) throws AgentException {
    String id = config.id().orElse(handshake.runnerId().toString());
    String name = values.getOrDefault(EnvFile.RUNNER_NAME, config.name().orElse("krun-" + id));
    String labels = values.getOrDefault(EnvFile.RUNNER_LABELS, config.labels().orElse("krun"));
    String group = values.getOrDefault(EnvFile.RUNNER_GROUP, config.group().orElse("Default"));
    String user = values.getOrDefault(EnvFile.RUNNER_USER, config.user().orElse("runner"));
    boolean update =
        values.containsKey(EnvFile.RUNNER_UPDATE)
            ? isTrue(values.get(EnvFile.RUNNER_UPDATE))
            : config.update();
    String url = values.get(EnvFile.RUNNER_URL);
    if (url == null && config.principal().isPresent()) {
      try {
        url =
            RunnerScope.of(config.scope().orElse("repo"), config.principal().get())
                .runnerUrl(GitHubTarget.of(config.github().orElse("github.com")))
                .toString();
      } catch (IllegalArgumentException e) {
        throw new AgentException(e.getMessage(), e);
      }
    }
    String workFolder = values.getOrDefault(EnvFile.RUNNER_WORKDIR, "_work");
    return new Settings(name, labels, group, url, user, update, workFolder);
  }

  private static boolean isTrue(String value) {
    return value != null
        && List.of("1", "true", "yes", "on").contains(value.trim().toLowerCase(Locale.ROOT));
  }

  private Optional<Path> locateInstall(boolean required) throws AgentException {
    List<Path> candidates = new ArrayList<>();
    config.runnerInstall().ifPresent(candidates::add);
    // RUNNER_INSTALL as in the earlier entrypoint; MICRORUNNER_RUNNER_DIR as the images set it.
    String fromEnvironment =
        environment.getOrDefault("RUNNER_INSTALL", environment.get("MICRORUNNER_RUNNER_DIR"));
    if (config.runnerInstall().isEmpty() && fromEnvironment != null && !fromEnvironment.isBlank()) {
      candidates.add(Path.of(fromEnvironment));
    }
    if (candidates.isEmpty()) {
      candidates.addAll(AgentConfig.DEFAULT_INSTALLS);
    }
    for (Path candidate : candidates) {
      if (Files.isRegularFile(candidate.resolve(LISTENER))) {
        return Optional.of(candidate);
      }
    }
    if (required) {
      throw new AgentException(
          "no actions/runner installation ("
              + LISTENER
              + ") in "
              + candidates
              + "; set RUNNER_INSTALL to its directory");
    }
    return Optional.empty();
  }

  /** {@code config.sh} with the token in its environment, as the runner's user. */
  private int configure(
      Path install, Settings settings, String token, Map<String, String> runnerEnvironment)
      throws AgentException, InterruptedException {
    if (settings.url == null) {
      throw new AgentException(
          "token registration needs the runner URL: RUNNER_URL in the env file, or the principal"
              + " setting");
    }
    List<String> arguments = new ArrayList<>();
    arguments.add(install.resolve("config.sh").toString());
    arguments.addAll(
        List.of(
            "--unattended",
            "--url",
            settings.url,
            "--name",
            settings.name,
            "--labels",
            settings.labels,
            "--runnergroup",
            settings.group,
            "--work",
            settings.workFolder,
            "--ephemeral",
            "--replace"));
    if (!settings.update) {
      arguments.add("--disableupdate");
    }
    Map<String, String> configEnvironment = new HashMap<>(runnerEnvironment);
    configEnvironment.put("ACTIONS_RUNNER_INPUT_TOKEN", token);
    LOG.info("Configuring runner {} for {}", settings.name, settings.url);
    return start(asUser(settings.user, arguments), Optional.of(install), configEnvironment)
        .awaitExit();
  }

  /**
   * The command run as {@code user}: as is when we are that user, else through {@code setpriv},
   * which switches user and group in place and execs the command. {@code runuser} would stay as the
   * command's parent and SIGKILL it two seconds after passing a signal on, cutting the listener's
   * cancellation short.
   */
  private List<String> asUser(String user, List<String> command) throws AgentException {
    if (user.equals(currentUser)) {
      return command;
    }
    if (!currentUser.equals("root")) {
      throw new AgentException(
          "cannot run the runner as user '"
              + user
              + "' (the user setting, or RUNNER_USER in the env file): the agent runs as '"
              + currentUser
              + "', not root");
    }
    Path setpriv =
        Executables.find("setpriv", environment)
            .orElseThrow(
                () ->
                    new AgentException(
                        "setpriv (util-linux) is not installed; it is needed to run the runner as "
                            + user));
    List<String> wrapped = new ArrayList<>();
    wrapped.addAll(
        List.of(setpriv.toString(), "--reuid=" + user, "--regid=" + user, "--init-groups", "--"));
    wrapped.addAll(command);
    return wrapped;
  }

  /**
   * HOME, USER, LOGNAME and SHELL of {@code user} from {@code /etc/passwd}, as {@code runuser} set
   * them: {@code setpriv} changes only the ids, and the runner's jobs expect their own home.
   */
  private static Map<String, String> loginEnvironment(String user) throws IOException {
    Path passwd = Path.of("/etc/passwd");
    if (!Files.isRegularFile(passwd)) {
      return Map.of();
    }
    for (String line : Files.readAllLines(passwd, StandardCharsets.UTF_8)) {
      String[] fields = line.split(":", -1);
      if (fields.length >= 7 && fields[0].equals(user)) {
        return Map.of("HOME", fields[5], "USER", user, "LOGNAME", user, "SHELL", fields[6]);
      }
    }
    LOG.warn("{} is not in /etc/passwd; the runner keeps the agent's HOME", user);
    return Map.of();
  }

  /**
   * Starts a child with the allow-listed environment plus, added explicitly, {@code additions}: the
   * agent's own environment and, for the one child that needs it, a secret. The agent's environment
   * is safe to pass on: in a VM it is the VM's, which the host built from settings that hold no
   * secret (VmSpec refuses secret names; the secrets came in the .env file, read and deleted before
   * any child starts). And the runner needs it: RUNNER_INSTALL, the image's PATH, and on the
   * process runtime the markers by which the host finds the runner's processes.
   */
  private Running start(List<String> argv, Optional<Path> directory, Map<String, String> additions)
      throws AgentException {
    return start(argv, directory, additions, stdout::println);
  }

  private Running start(
      List<String> argv,
      Optional<Path> directory,
      Map<String, String> additions,
      Consumer<String> lines)
      throws AgentException {
    Command command =
        Command.of(argv, ChildEnvironment.of(environment, additions)).withOutput(lines, lines);
    try {
      return COMMANDS.start(directory.map(command::withWorkingDirectory).orElse(command));
    } catch (VmException e) {
      throw new AgentException(e.getMessage(), e);
    }
  }

  /** The VM console: children's lines are written back as the UTF-8 they were read as. */
  private static PrintStream console(PrintStream stream) {
    return new PrintStream(stream, true, StandardCharsets.UTF_8);
  }
}
