package dev.microrunner.loop;

import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.Registered;
import dev.microrunner.loop.internal.InstanceJournal;
import dev.microrunner.loop.internal.Registrar;
import dev.microrunner.loop.internal.RunnerVersionCheck;
import dev.microrunner.vm.Availability;
import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.MicroVmRuntimes;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.apache.commons.io.file.PathUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N runner loops in one process. {@link #run()} recovers what a crashed earlier instance left,
 * starts the loops in order (loop i+1 once loop i's first runner registered, with a timeout, or
 * with bounded parallelism), waits for them to end, and cleans up: every VM stopped, every
 * registration removed, every directory deleted. {@link #stop(boolean)} (e.g. from a signal
 * handler) ends the loops.
 *
 * <pre>{@code
 * Orchestrator orchestrator = Orchestrator.builder(config).listener(events::add).build();
 * Orchestrator.Result result = orchestrator.run();   // stop(false) from another thread ends it
 * }</pre>
 */
public final class Orchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(Orchestrator.class);

  private static final int BACKGROUND_THREADS = 32;

  /**
   * How the loops ended.
   *
   * @param loops one outcome per loop that started
   */
  public record Result(List<Ended> loops) {
    public Result {
      loops = List.copyOf(loops);
    }

    /** The first loop that GitHub refused, if any. */
    public Optional<Ended> refusal() {
      return loops.stream().filter(o -> o.reason() == EndReason.GITHUB_REFUSED).findFirst();
    }

    /** The first loop that failed otherwise (the runner version included), if any. */
    public Optional<Ended> failure() {
      return loops.stream()
          .filter(o -> o.reason() == EndReason.FAILED || o.reason() == EndReason.RUNNER_VERSION)
          .findFirst();
    }

    /** Runners served over all loops. */
    public int runners() {
      return loops.stream().mapToInt(Ended::runners).sum();
    }
  }

  private final OrchestratorConfig config;
  private final LoopListener listener;
  private final Optional<MicroVmRuntime> givenRuntime;
  private final Optional<GitHubRunnerClient> givenGitHub;
  private final Redactor redactor;
  private final LoopTime time;
  private final VmOwner owner;
  private final Object lock = new Object();
  private final List<StartedLoop> started = new ArrayList<>();
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private volatile boolean stopping;
  private volatile boolean skipGrace;
  private volatile Path baseDirectory;

  private Orchestrator(Builder builder) {
    this.config = builder.config;
    this.listener = builder.listener;
    this.givenRuntime = Optional.ofNullable(builder.runtime);
    this.givenGitHub = Optional.ofNullable(builder.github);
    this.redactor = builder.redactor;
    this.time = builder.time;
    this.owner = VmOwner.forThisProcess(config.prefix());
  }

  public static Builder builder(OrchestratorConfig config) {
    return new Builder(config);
  }

  /** Who owns this instance's VMs and registrations (for crash recovery). */
  public VmOwner owner() {
    return owner;
  }

  /** The directory holding the loop directories, once {@link #run()} made it. */
  public Optional<Path> baseDirectory() {
    return Optional.ofNullable(baseDirectory);
  }

  /**
   * Ends every loop: {@code .trm}, the grace period, a forced stop, registrations removed. A second
   * call with {@code skipGrace} cuts the grace period short. Returns at once.
   */
  public void stop(boolean skipGrace) {
    List<StartedLoop> loops;
    synchronized (lock) {
      if (skipGrace) {
        this.skipGrace = true;
      }
      stopping = true;
      loops = List.copyOf(started);
    }
    stopSignal.countDown();
    LOG.info(
        skipGrace
            ? "Stopping {} loop(s) now, without waiting for the grace period"
            : "Stopping {} loop(s)",
        loops.size());
    for (StartedLoop loop : loops) {
      loop.firstRegistration.countDown();
      loop.loop.stop(this.skipGrace);
    }
  }

  /**
   * Runs the loops until they end, then cleans up.
   *
   * @throws RuntimeUnavailableException if the runtime cannot run here
   * @throws GitHubException if GitHub refuses the set-up calls (credentials, scope, group)
   * @throws RunnerVersionException if GitHub no longer accepts the image's actions/runner
   * @throws IOException if the directories cannot be made
   */
  public Result run()
      throws RuntimeUnavailableException,
          GitHubException,
          RunnerVersionException,
          IOException,
          InterruptedException {
    MicroVmRuntime runtime = givenRuntime.isPresent() ? givenRuntime.get() : createRuntime();
    GitHubRunnerClient github =
        givenGitHub.isPresent()
            ? givenGitHub.get()
            : GitHubRunnerClient.builder(
                    config.runner().target(),
                    config.runner().scope(),
                    config.runner().credentials())
                .build();
    ExecutorService background = backgroundThreads();
    try {
      recoverFromCrash(runtime, github);
      pullOnce(runtime);
      checkRunnerVersion(runtime, github);
      long groupId = github.runnerGroupId(config.runner().group());
      baseDirectory = createBaseDirectory();
      InstanceJournal journal =
          InstanceJournal.create(config.stateDirectory(), owner, baseDirectory);
      Registrar registrar =
          new Registrar(github, config.runner(), groupId, journal, redactor, time);
      Result result;
      try {
        result = runLoops(runtime, registrar, background);
      } finally {
        registrar.removeUncertain();
        deleteDirectories();
      }
      if (journal.isEmpty()) {
        journal.delete();
      } else {
        LOG.warn(
            "Some registrations could not be removed; {} lists them for the next start",
            journal.file());
      }
      return result;
    } finally {
      background.shutdown();
      background.awaitTermination(30, TimeUnit.SECONDS);
      if (givenGitHub.isEmpty()) {
        github.close();
      }
      if (givenRuntime.isEmpty()) {
        runtime.close();
      }
    }
  }

  private MicroVmRuntime createRuntime() throws RuntimeUnavailableException {
    RuntimeOptions options =
        RuntimeOptions.builder(owner, config.stateDirectory().resolve("vm"))
            .environment(config.runtimeEnvironment())
            .redactor(redactor::redact)
            .build();
    MicroVmRuntime runtime;
    try {
      runtime =
          config.runtime().equals(OrchestratorConfig.AUTO_RUNTIME)
              ? MicroVmRuntimes.detect(options)
              : MicroVmRuntimes.create(config.runtime(), options);
    } catch (VmException e) {
      throw new RuntimeUnavailableException(e.getMessage(), e);
    }
    Availability availability = runtime.availability();
    if (!availability.available()) {
      runtime.close();
      throw new RuntimeUnavailableException(
          "runtime " + runtime.name() + " is not available: " + availability.reason());
    }
    if (runtime.isolation() == Isolation.CONTAINER) {
      LOG.warn(
          "Runtime {} isolates runners in containers only, not microVMs: jobs share the host's"
              + " kernel",
          runtime.name());
    }
    return runtime;
  }

  /** Removes what dead instances of the same prefix on this host left: VMs, registrations. */
  private void recoverFromCrash(MicroVmRuntime runtime, GitHubRunnerClient github)
      throws IOException {
    boolean orphansGone = true;
    try {
      for (VmInfo orphan : runtime.listOrphans()) {
        LOG.warn(
            "Removing VM {} left by a dead instance (pid {})", orphan.name(), orphan.owner().pid());
        runtime.delete(orphan.name());
      }
    } catch (VmException e) {
      orphansGone = false;
      LOG.warn("Could not list or remove orphaned VMs: {}", e.getMessage());
    }
    for (InstanceJournal.Abandoned abandoned :
        InstanceJournal.findAbandoned(config.stateDirectory(), config.prefix(), owner.host())) {
      InstanceJournal.State state = abandoned.state();
      boolean complete = true;
      for (Map.Entry<String, Long> registration : state.registrations().entrySet()) {
        try {
          Registrar.removeAbandoned(github, registration.getKey(), registration.getValue());
          LOG.warn(
              "Removed registration {} left by a dead instance (pid {})",
              registration.getKey(),
              state.pid());
        } catch (GitHubException e) {
          complete = false;
          LOG.warn(
              "Could not remove registration {} left by a dead instance: {}",
              registration.getKey(),
              e.getMessage());
        }
      }
      if (orphansGone) {
        // An orphaned VM may still write in its directory: delete it only once no VM can.
        deleteLoopDirectories(Path.of(state.baseDirectory()), state.prefix());
      } else {
        complete = false;
      }
      if (complete) {
        Files.deleteIfExists(abandoned.file());
      }
    }
  }

  private void pullOnce(MicroVmRuntime runtime) throws RuntimeUnavailableException {
    try {
      runtime.pull(config.runner().vm().image(), config.runner().pull());
    } catch (VmException e) {
      throw new RuntimeUnavailableException(
          "cannot pull image " + config.runner().vm().image() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Warns when the image's actions/runner is older than what GitHub serves, and refuses to start
   * when GitHub no longer accepts it: every VM would boot only to be turned away.
   */
  private void checkRunnerVersion(MicroVmRuntime runtime, GitHubRunnerClient github)
      throws RunnerVersionException {
    String image = config.runner().vm().image();
    Optional<String> version;
    try {
      version =
          RunnerVersionCheck.runnerVersion(
              runtime, config.runner().vm(), CommandRunner.commonsExec());
    } catch (VmException e) {
      LOG.warn("Could not read the actions/runner version of image {}: {}", image, e.getMessage());
      return;
    }
    if (version.isEmpty()) {
      LOG.info(
          "Image {} does not say its actions/runner version (label {}); not compared with GitHub's",
          image,
          RunnerVersionCheck.VERSION_LABEL);
      return;
    }
    RunnerVersionCheck.Verdict verdict =
        RunnerVersionCheck.check(version.get(), image, github, time.now());
    switch (verdict.level()) {
      case CURRENT -> LOG.info("{}", verdict.message());
      case BEHIND, UNKNOWN -> LOG.warn("{}", verdict.message());
      case REFUSED -> throw new RunnerVersionException(verdict.message(), version.get());
    }
  }

  private Path createBaseDirectory() throws IOException {
    if (config.baseDirectory().isPresent()) {
      Path base = config.baseDirectory().get().toAbsolutePath();
      InstanceJournal.createPrivateDirectories(base);
      return base;
    }
    return Files.createTempDirectory(config.prefix() + "-").toAbsolutePath();
  }

  private Result runLoops(MicroVmRuntime runtime, Registrar registrar, ExecutorService background)
      throws IOException, InterruptedException {
    String guestUser =
        runtime.isolation() == Isolation.NONE
            ? System.getProperty("user.name")
            : config.runner().user();
    RunnerLoop.Shared shared =
        new RunnerLoop.Shared(
            runtime, registrar, config.prefix(), guestUser, background, time, redactor);
    List<StartedLoop> all = new ArrayList<>();
    config.runner().secret().ifPresent(secret -> redactor.add(secret.reveal()));
    try {
      startLoops(shared, all);
    } catch (IOException | RuntimeException | InterruptedException e) {
      // The loops already running must end before their directories can go.
      stop(false);
      for (StartedLoop loop : all) {
        loop.awaitOutcome();
      }
      throw e;
    }
    List<Ended> outcomes = new ArrayList<>();
    for (StartedLoop loop : all) {
      outcomes.add(loop.awaitOutcome());
    }
    return new Result(outcomes);
  }

  private void startLoops(RunnerLoop.Shared shared, List<StartedLoop> all)
      throws IOException, InterruptedException {
    Deque<StartedLoop> starting = new ArrayDeque<>();
    for (int i = 0; i < config.loops() && !stopping; i++) {
      int number = config.firstLoop() + i;
      if (config.isolation()) {
        while (starting.size() >= config.parallelStart() && !stopping) {
          StartedLoop oldest = starting.poll();
          Duration left =
              Duration.ofNanos(Math.max(0, oldest.startDeadlineNanos - time.nanoTime()));
          if (!time.await(oldest.firstRegistration, left)) {
            LOG.warn(
                "Loop {} has not registered a runner within {} s; starting the next loop anyway",
                oldest.loop.loop(),
                config.startTimeout().toSeconds());
          }
        }
      } else if (i > 0) {
        time.await(stopSignal, config.isolationOffDelay());
      }
      if (stopping) {
        break;
      }
      Path directory =
          config.isolation()
              ? baseDirectory.resolve(String.format("%s-%03d", config.prefix(), number))
              : baseDirectory.resolve(config.prefix() + "-shared");
      HostLoopDirectory loopDirectory = HostLoopDirectory.create(directory, number);
      // A secret of the configuration serves every loop; a generated one only this loop.
      Optional<LoopSecret> generated =
          config.runner().secret().isPresent()
              ? Optional.empty()
              : Optional.of(LoopSecret.generate());
      LoopSecret secret = generated.orElseGet(() -> config.runner().secret().orElseThrow());
      redactor.add(secret.reveal());
      CountDownLatch firstRegistration = new CountDownLatch(1);
      LoopListener loopListener =
          event -> {
            if (event instanceof Ended ended) {
              if (ended.reason() == EndReason.GITHUB_REFUSED && !stopping) {
                // Every loop uses the same credentials: end the others now rather than when
                // their current jobs end, and start no further loop.
                LOG.error("GitHub refused loop {}; stopping every loop", event.loop());
                stop(false);
              }
              generated.ifPresent(s -> redactor.forget(s.reveal()));
            }
            if (event instanceof Registered || event instanceof Ended) {
              firstRegistration.countDown();
            }
            listener.onEvent(event);
          };
      RunnerLoop loop =
          new RunnerLoop(number, config.runner(), loopDirectory, secret, loopListener, shared);
      StartedLoop startedLoop =
          new StartedLoop(
              loop,
              loopDirectory,
              firstRegistration,
              time.nanoTime() + config.startTimeout().toNanos());
      synchronized (lock) {
        if (stopping) {
          break;
        }
        started.add(startedLoop);
        startedLoop.thread.start();
      }
      starting.add(startedLoop);
      all.add(startedLoop);
    }
  }

  private void deleteDirectories() {
    List<StartedLoop> loops;
    synchronized (lock) {
      loops = List.copyOf(started);
    }
    for (StartedLoop loop : loops) {
      try {
        loop.directory.deleteAfterVmsEnded();
      } catch (IOException e) {
        LOG.warn("Could not delete {}: {}", loop.directory.path(), e.getMessage());
      }
    }
    if (baseDirectory != null) {
      deleteLoopDirectories(baseDirectory, config.prefix());
    }
  }

  /**
   * Deletes the directories an instance with {@code prefix} made in {@code base} (loop directories
   * and their claim directories), then {@code base} if nothing else is left in it. A base directory
   * given with --base-dir may be shared with instances of other prefixes or hold other files, which
   * are not this instance's to delete. Only called once no VM can write in those directories.
   */
  private static void deleteLoopDirectories(Path base, String prefix) {
    Pattern own = Pattern.compile("\\.?" + Pattern.quote(prefix) + "-(\\d{3,}|shared)(\\.claims)?");
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(base)) {
      for (Path entry : entries) {
        if (own.matcher(entry.getFileName().toString()).matches()) {
          deleteTree(entry);
        }
      }
    } catch (NoSuchFileException e) {
      return;
    } catch (IOException e) {
      LOG.warn("Could not list {}: {}", base, e.getMessage());
      return;
    }
    try {
      Files.delete(base);
    } catch (DirectoryNotEmptyException e) {
      LOG.debug("Keeping {}: it holds more than this instance's loop directories", base);
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", base, e.getMessage());
    }
  }

  /** Deletes a tree without following links. */
  private static void deleteTree(Path root) {
    try {
      PathUtils.deleteDirectory(root);
    } catch (NoSuchFileException e) {
      // Already gone.
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", root, e.getMessage());
    }
  }

  /**
   * The loops' work off their paths: registrations prepared ahead, VMs and registrations removed.
   * Bounded, since each task mostly waits for GitHub: fifty loops held forty threads' stacks in
   * memory with an unbounded pool, and a few threads keep the queue moving. Idle ones end.
   */
  private static ExecutorService backgroundThreads() {
    ThreadPoolExecutor threads =
        new ThreadPoolExecutor(
            BACKGROUND_THREADS,
            BACKGROUND_THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            daemonThreads("microrunner-bg-"));
    threads.allowCoreThreadTimeOut(true);
    return threads;
  }

  static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  private static final class StartedLoop {
    final RunnerLoop loop;
    final HostLoopDirectory directory;
    final CountDownLatch firstRegistration;
    final long startDeadlineNanos;
    final Thread thread;
    volatile Ended outcome;

    StartedLoop(
        RunnerLoop loop,
        HostLoopDirectory directory,
        CountDownLatch firstRegistration,
        long startDeadlineNanos) {
      this.loop = loop;
      this.directory = directory;
      this.firstRegistration = firstRegistration;
      this.startDeadlineNanos = startDeadlineNanos;
      this.thread = new Thread(() -> outcome = loop.run(), "loop-" + loop.loop());
    }

    Ended awaitOutcome() throws InterruptedException {
      thread.join();
      return outcome;
    }
  }

  /** Builds an orchestrator; the runtime and GitHub client may be given (embedding, tests). */
  public static final class Builder {
    private final OrchestratorConfig config;
    private LoopListener listener = LoopListener.none();
    private MicroVmRuntime runtime;
    private GitHubRunnerClient github;
    private Redactor redactor = new Redactor();
    private LoopTime time = LoopTime.SYSTEM;

    private Builder(OrchestratorConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    public Builder listener(LoopListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Uses this runtime instead of creating one from the configuration; it is not closed. */
    public Builder runtime(MicroVmRuntime runtime) {
      this.runtime = runtime;
      return this;
    }

    /** Uses this client instead of creating one from the configuration; it is not closed. */
    public Builder github(GitHubRunnerClient github) {
      this.github = github;
      return this;
    }

    /**
     * Masks the loops' secrets with this redactor, which the caller may share with its own log
     * output; by default the orchestrator has one of its own.
     */
    public Builder redactor(Redactor redactor) {
      this.redactor = Objects.requireNonNull(redactor, "redactor");
      return this;
    }

    /** The clock and waits of the loops; {@link LoopTime#SYSTEM} unless a test skips time. */
    public Builder time(LoopTime time) {
      this.time = Objects.requireNonNull(time, "time");
      return this;
    }

    public Orchestrator build() {
      return new Orchestrator(this);
    }
  }
}
