package dev.microrunner.loop;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.DemandReconciler;
import dev.microrunner.github.GitHubCallObserver;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerStatus;
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
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
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
 * Runner loops in one process, in one pool or several ({@link Pool}). {@link #run()} recovers what
 * a crashed earlier instance left, starts the loops in order (loop i+1 once loop i's first runner
 * registered, with a timeout, or with bounded parallelism), waits for them to end, and cleans up:
 * every VM stopped, every registration removed, every directory deleted. {@link #stop(boolean)}
 * (e.g. from a signal handler) ends the loops; {@link #reconfigure(List)} adds, removes and
 * replaces pools while they run.
 *
 * <pre>{@code
 * Orchestrator orchestrator = Orchestrator.builder(config).listener(events::add).build();
 * Orchestrator.Result result = orchestrator.run();   // stop(false) from another thread ends it
 * }</pre>
 */
public final class Orchestrator {

  private static final Logger LOG = LoggerFactory.getLogger(Orchestrator.class);

  private static final int BACKGROUND_THREADS = 32;

  /** How often demand-driven pools are sized when no demand change wakes the orchestrator. */
  static final Duration SCALE_PERIOD = Duration.ofMillis(500);

  /**
   * How the loops ended.
   *
   * @param loops one outcome per loop that started, by loop number (a loop replaced at a
   *     reconfiguration and its replacement share a number), but for loops a demand-driven pool
   *     ended cleanly when it shrank: a pool that grows and shrinks all day would collect those
   * @param runnersOfShrunkLoops the runners those loops served
   */
  public record Result(List<Ended> loops, int runnersOfShrunkLoops) {
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
      return loops.stream().mapToInt(Ended::runners).sum() + runnersOfShrunkLoops;
    }
  }

  private final OrchestratorConfig config;
  private final LoopListener listener;
  private final PoolListener poolListener;
  private final Optional<MicroVmRuntime> givenRuntime;
  private final Optional<GitHubRunnerClient> givenGitHub;
  private final GitHubCallObserver githubObserver;
  private final Demand demand;
  // The queued jobs polling feeds, and how often; empty without polling.
  private final Optional<QueuedJobs> polledJobs;
  private final Optional<DemandReconciler.Options> polling;
  private final HostCapacity host;
  private final Redactor redactor;
  private final LoopTime time;
  private final VmOwner owner;
  private final Object lock = new Object();
  private final Object reconfiguring = new Object();
  private final Object scaleSignal = new Object();
  private final CountDownLatch stopSignal = new CountDownLatch(1);

  // Guarded by lock.
  private final Map<String, PoolState> pools = new LinkedHashMap<>();
  private final List<StartedLoop> live = new ArrayList<>();
  private final Set<Integer> numbers = new TreeSet<>();
  private final List<Ended> outcomes = new ArrayList<>();
  private final List<PoolState> everyPoolState = new ArrayList<>();
  private final Map<String, MicroVmRuntime> runtimes = new LinkedHashMap<>();
  private final List<Client> clients = new ArrayList<>();
  private final Set<String> pulled = new HashSet<>();
  private int reconfigurations;
  private int runnersOfShrunkLoops;
  private boolean running;
  private boolean finished;

  private volatile boolean stopping;
  private volatile boolean skipGrace;
  private volatile Path baseDirectory;
  private volatile ExecutorService background;

  private Orchestrator(Builder builder) {
    this.config = builder.config;
    this.listener = builder.listener;
    this.poolListener = builder.poolListener;
    this.givenRuntime = Optional.ofNullable(builder.runtime);
    this.givenGitHub = Optional.ofNullable(builder.github);
    this.githubObserver = builder.githubObserver;
    this.demand = builder.demand;
    this.polledJobs = Optional.ofNullable(builder.polledJobs);
    this.polling = Optional.ofNullable(builder.polling);
    this.host = builder.host;
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

  /** The pools as last configured (empty before {@link #run()} set them up). */
  public List<Pool> pools() {
    synchronized (lock) {
      return pools.values().stream().map(p -> p.pool).toList();
    }
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
      loops = List.copyOf(live);
      lock.notifyAll();
    }
    stopSignal.countDown();
    synchronized (scaleSignal) {
      scaleSignal.notifyAll();
    }
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
    background = backgroundThreads();
    try {
      // The runtimes and GitHub clients of the first pools, before anything else: crash recovery
      // needs them.
      for (Pool pool : config.pools()) {
        runtimeFor(pool);
        clientFor(pool.runner());
      }
      checkCapacity(config.pools());
      recoverFromCrash();
      baseDirectory = createBaseDirectory();
      List<PoolState> initial = new ArrayList<>();
      try {
        for (Pool pool : config.pools()) {
          initial.add(prepare(pool));
        }
      } catch (GitHubException
          | RuntimeUnavailableException
          | RunnerVersionException
          | IOException
          | RuntimeException e) {
        initial.forEach(this::retire);
        deleteLoopDirectories(baseDirectory, config.prefix());
        throw e;
      }
      synchronized (lock) {
        initial.forEach(p -> pools.put(p.pool.name(), p));
      }
      notifyPools();
      try {
        runLoops(initial);
      } finally {
        List<PoolState> states;
        synchronized (lock) {
          states = List.copyOf(everyPoolState);
        }
        states.forEach(p -> p.registrar.removeUncertain());
        deleteDirectories();
        states.forEach(this::retire);
      }
      List<Ended> ended;
      synchronized (lock) {
        ended = new ArrayList<>(outcomes);
      }
      ended.sort(Comparator.comparingInt(Ended::loop).thenComparingLong(Ended::nanoTime));
      synchronized (lock) {
        return new Result(ended, runnersOfShrunkLoops);
      }
    } finally {
      synchronized (lock) {
        finished = true;
      }
      background.shutdown();
      background.awaitTermination(30, TimeUnit.SECONDS);
      List<Client> ownClients;
      List<MicroVmRuntime> ownRuntimes;
      synchronized (lock) {
        ownClients = List.copyOf(clients);
        ownRuntimes = List.copyOf(runtimes.values());
      }
      if (givenGitHub.isEmpty()) {
        ownClients.forEach(c -> c.client.close());
      }
      if (givenRuntime.isEmpty()) {
        ownRuntimes.forEach(MicroVmRuntime::close);
      }
    }
  }

  /**
   * Changes the pools while the loops run: pools not named before start, pools no longer named stop
   * the normal way ({@code .trm}, grace, clean-up), a pool whose loop count alone changed starts or
   * stops loops, and a pool whose runners changed is replaced loop by loop (a loop stops, then its
   * replacement starts and registers, then the next), so it never runs fewer than its count minus
   * one. Idle loops are replaced before busy ones. Pools that stay as they were are not touched.
   *
   * <p>The new pools' runtimes, images, runner versions and runner groups are checked first; if one
   * fails, nothing changes and the returned future fails with the reason. Reconfigurations run one
   * after the other.
   *
   * @return completes once every change is done
   * @throws InvalidSettingException if the pools are not a valid set (names twice, none)
   * @throws IllegalStateException if the loops are not running (not yet started, or stopping)
   */
  public CompletableFuture<Void> reconfigure(List<Pool> newPools) {
    List<Pool> wanted = List.copyOf(newPools);
    OrchestratorConfig.checkPools(wanted, config.isolation());
    if (!config.isolation()) {
      throw new InvalidSettingException(
          "no-isolation", "does not let pools change while the loops run");
    }
    synchronized (lock) {
      if (!running || finished || stopping) {
        throw new IllegalStateException(
            stopping ? "the orchestrator is stopping" : "the orchestrator's loops are not running");
      }
      reconfigurations++;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                synchronized (reconfiguring) {
                  apply(wanted);
                }
                done.complete(null);
              } catch (Exception e) {
                done.completeExceptionally(e);
              } finally {
                synchronized (lock) {
                  reconfigurations--;
                  lock.notifyAll();
                }
              }
            },
            "reconfigure");
    thread.setDaemon(true);
    thread.start();
    return done;
  }

  private void apply(List<Pool> wanted) throws Exception {
    Map<String, PoolState> current;
    synchronized (lock) {
      current = new LinkedHashMap<>(pools);
    }
    Map<String, PoolState> prepared = new LinkedHashMap<>();
    try {
      checkCapacity(wanted);
      for (Pool pool : wanted) {
        PoolState old = current.get(pool.name());
        if (old == null || !old.pool.sameRunnersAs(pool)) {
          runtimeFor(pool);
          clientFor(pool.runner());
          prepared.put(pool.name(), prepare(pool));
        }
      }
    } catch (Exception e) {
      prepared.values().forEach(this::retire);
      LOG.error("The new pools were refused, nothing changed: {}", redactor.redact(e.getMessage()));
      throw e;
    }
    List<Runnable> changes = new ArrayList<>();
    Set<String> names = new HashSet<>();
    synchronized (lock) {
      if (stopping) {
        prepared.values().forEach(this::retire);
        return;
      }
      for (Pool pool : wanted) {
        names.add(pool.name());
        PoolState old = current.get(pool.name());
        PoolState fresh = prepared.get(pool.name());
        if (old == null) {
          LOG.info("Pool {}: new, {} loop(s)", pool.name(), pool.loops());
          pools.put(pool.name(), fresh);
          if (pool.scaling().isEmpty()) {
            changes.add(() -> grow(fresh, pool.loops()));
          }
        } else if (fresh == null) {
          int before = old.pool.loops();
          old.pool = pool;
          if (pool.scaling().isPresent()) {
            changes.add(() -> startPolling(old));
          } else {
            changes.add(() -> stopPolling(old));
          }
          // A demand-driven pool is sized by the scaler, from its new settings.
          if (pool.scaling().isEmpty() && pool.loops() != before) {
            LOG.info("Pool {}: {} loop(s) instead of {}", pool.name(), pool.loops(), before);
            changes.add(() -> resize(old, pool.loops()));
          }
        } else {
          LOG.info("Pool {}: changed; replacing its loops one by one", pool.name());
          pools.put(pool.name(), fresh);
          changes.add(() -> replace(old, fresh));
        }
      }
      for (PoolState old : current.values()) {
        if (!names.contains(old.pool.name())) {
          LOG.info("Pool {}: removed; stopping its {} loop(s)", old.pool.name(), old.loops.size());
          pools.remove(old.pool.name());
          changes.add(() -> shrinkTo(old, 0));
        }
      }
      // Keep the configured order.
      Map<String, PoolState> ordered = new LinkedHashMap<>();
      for (Pool pool : wanted) {
        ordered.put(pool.name(), pools.get(pool.name()));
      }
      pools.clear();
      pools.putAll(ordered);
    }
    notifyPools();
    List<Thread> threads = new ArrayList<>();
    for (Runnable change : changes) {
      Thread thread = new Thread(change, "reconfigure-pool");
      thread.setDaemon(true);
      thread.start();
      threads.add(thread);
    }
    for (Thread thread : threads) {
      thread.join();
    }
    // What the old pools' loops were was removed with them.
    for (PoolState old : current.values()) {
      boolean inUse;
      synchronized (lock) {
        inUse = pools.containsValue(old) || !old.loops.isEmpty();
      }
      if (!inUse) {
        old.registrar.removeUncertain();
        retire(old);
      }
    }
  }

  private void notifyPools() {
    try {
      poolListener.onPools(pools());
    } catch (RuntimeException e) {
      LOG.warn("Pool listener failed: {}", e.toString());
    }
  }

  /** Starts {@code count} more loops of {@code pool}. */
  private void grow(PoolState pool, int count) {
    List<PoolState> plan = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      plan.add(pool);
    }
    try {
      startLoops(plan, new ArrayDeque<>());
    } catch (IOException | RuntimeException e) {
      LOG.error("Pool {}: could not start its loops: {}", pool.pool.name(), e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void resize(PoolState pool, int count) {
    int now;
    synchronized (lock) {
      now = pool.loops.size();
    }
    if (count > now) {
      grow(pool, count - now);
    } else {
      shrinkTo(pool, count);
    }
  }

  /**
   * Stops loops of {@code pool}, idle ones first and then the highest numbers, until it has {@code
   * count}.
   */
  private void shrinkTo(PoolState pool, int count) {
    List<StartedLoop> surplus;
    synchronized (lock) {
      List<StartedLoop> loops = new ArrayList<>(pool.loops);
      loops.sort(replacementOrder().reversed());
      surplus = loops.subList(0, Math.max(0, loops.size() - count));
      surplus = List.copyOf(surplus);
    }
    surplus.forEach(loop -> loop.loop.stop(skipGrace));
    for (StartedLoop loop : surplus) {
      retireLoop(loop, true);
    }
  }

  /**
   * Replaces the loops of {@code old} by loops of {@code fresh}, one at a time: stop one, wait for
   * it to end, start its replacement under the same number and wait for its first registration (or
   * the start timeout), then the next. A loop count that changed with it is applied first (surplus
   * loops stop) or last (extra loops start).
   */
  private void replace(PoolState old, PoolState fresh) {
    int count;
    if (fresh.pool.scaling().isPresent()) {
      // As many as now, within the new bounds; the scaler sizes it from there.
      synchronized (lock) {
        count = Math.min(fresh.pool.scaling().get().max(), old.loops.size());
      }
    } else {
      count = fresh.pool.loops();
    }
    shrinkTo(old, count);
    List<StartedLoop> loops;
    synchronized (lock) {
      loops = new ArrayList<>(old.loops);
    }
    loops.sort(replacementOrder());
    try {
      for (StartedLoop loop : loops) {
        if (stopping) {
          return;
        }
        loop.loop.stop(skipGrace);
        retireLoop(loop, false);
        if (stopping) {
          synchronized (lock) {
            numbers.remove(loop.number);
          }
          return;
        }
        StartedLoop replacement = startLoop(fresh, Optional.of(loop.number));
        if (replacement != null) {
          awaitStart(replacement);
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.error("Pool {}: could not replace its loops: {}", fresh.pool.name(), e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    int started;
    synchronized (lock) {
      started = fresh.loops.size();
    }
    if (count > started) {
      grow(fresh, count - started);
    }
  }

  /** Idle and starting loops before busy ones, then by number. */
  private static Comparator<StartedLoop> replacementOrder() {
    return Comparator.<StartedLoop>comparingInt(
            l -> l.loop.state() == RunnerStatus.State.BUSY ? 1 : 0)
        .thenComparingInt(l -> l.number);
  }

  /**
   * Waits for a stopped loop to end and deletes its directory; its number is free again if {@code
   * release}, else kept for its replacement.
   */
  private void retireLoop(StartedLoop loop, boolean release) {
    try {
      loop.thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    forget(loop, release);
  }

  /**
   * Deletes an ended loop's directory and stops tracking it, so that pools that change or shrink
   * all day do not collect them; its number is free again if {@code release}.
   */
  private void forget(StartedLoop loop, boolean release) {
    try {
      loop.directory.deleteAfterVmsEnded();
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", loop.directory.path(), e.getMessage());
    }
    synchronized (lock) {
      everyLoop.remove(loop);
      if (release) {
        numbers.remove(loop.number);
      }
    }
  }

  /**
   * With a demand-driven pool, checks that every pool at its largest (fixed pools' loops, the
   * others' {@code max}) fits the host's memory and CPUs. VMs of the process runtime reserve
   * neither. Fixed pools alone are not checked: their size is the operator's explicit choice, and
   * vCPUs of fixed pools have always been allowed to share CPUs.
   */
  private void checkCapacity(List<Pool> pools) throws RuntimeUnavailableException {
    if (pools.stream().allMatch(p -> p.scaling().isEmpty())) {
      return;
    }
    long memory = 0;
    long cpus = 0;
    for (Pool pool : pools) {
      if (runtimeFor(pool).isolation() == Isolation.NONE) {
        continue;
      }
      memory += (long) pool.maxVms() * pool.runner().vm().memoryMib();
      cpus += (long) pool.maxVms() * pool.runner().vm().cpus();
    }
    HostCapacity capacity = host != null ? host : HostCapacity.ofThisHost();
    if (memory > capacity.memoryMib()) {
      throw new InvalidSettingException(
          "max",
          "is more than this host holds: the pools' VMs at their largest (loops or max × memory)"
              + " need "
              + memory
              + " MiB, the host has "
              + capacity.memoryMib()
              + " MiB");
    }
    if (cpus > capacity.cpus()) {
      throw new InvalidSettingException(
          "max",
          "is more than this host holds: the pools' VMs at their largest (loops or max × cpus)"
              + " need "
              + cpus
              + " CPUs, the host has "
              + capacity.cpus());
    }
  }

  private MicroVmRuntime runtimeFor(Pool pool) throws RuntimeUnavailableException {
    if (givenRuntime.isPresent()) {
      return givenRuntime.get();
    }
    String name = pool.runtime().orElse(config.runtime());
    synchronized (lock) {
      MicroVmRuntime known = runtimes.get(name);
      if (known != null) {
        return known;
      }
    }
    MicroVmRuntime runtime = createRuntime(name);
    synchronized (lock) {
      MicroVmRuntime raced = runtimes.putIfAbsent(name, runtime);
      if (raced != null) {
        runtime.close();
        return raced;
      }
    }
    return runtime;
  }

  /** The GitHub client of a runner configuration: one per GitHub, scope and credentials. */
  private GitHubRunnerClient clientFor(RunnerConfig runner) {
    if (givenGitHub.isPresent()) {
      return givenGitHub.get();
    }
    synchronized (lock) {
      for (Client client : clients) {
        if (client.serves(runner)) {
          return client.client;
        }
      }
      GitHubRunnerClient client =
          GitHubRunnerClient.builder(runner.target(), runner.scope(), runner.credentials())
              .observer(githubObserver)
              .build();
      clients.add(new Client(runner, client));
      return client;
    }
  }

  private Optional<Client> clientEntry(GitHubRunnerClient github) {
    synchronized (lock) {
      return clients.stream().filter(c -> c.client == github).findFirst();
    }
  }

  /**
   * Everything a pool's loops share, checked: the image pulled, its actions/runner version compared
   * with GitHub's, the runner group looked up, a journal of its own.
   */
  private PoolState prepare(Pool pool)
      throws RuntimeUnavailableException, GitHubException, RunnerVersionException, IOException {
    MicroVmRuntime runtime = runtimeFor(pool);
    GitHubRunnerClient github = clientFor(pool.runner());
    pullOnce(runtime, pool.runner());
    checkRunnerVersion(runtime, github, pool.runner());
    long groupId = github.runnerGroupId(pool.runner().group());
    int generation;
    synchronized (lock) {
      generation =
          (int) everyPoolState.stream().filter(p -> p.pool.name().equals(pool.name())).count();
    }
    InstanceJournal journal =
        InstanceJournal.create(
            config.stateDirectory(),
            owner,
            baseDirectory,
            pool.name() + (generation == 0 ? "" : "-" + generation),
            Optional.of(
                new InstanceJournal.Where(
                    pool.runner().target().apiBase().toString(),
                    pool.runner().scope().kind().optionValue(),
                    pool.runner().scope().principal())));
    Registrar registrar = new Registrar(github, pool.runner(), groupId, journal, redactor, time);
    String guestUser =
        runtime.isolation() == Isolation.NONE
            ? System.getProperty("user.name")
            : pool.runner().user();
    RunnerLoop.Shared shared =
        new RunnerLoop.Shared(
            runtime, registrar, config.prefix(), guestUser, background, time, redactor);
    pool.runner().secret().ifPresent(secret -> redactor.add(secret.reveal()));
    PoolState state = new PoolState(pool, github, registrar, journal, shared);
    synchronized (lock) {
      everyPoolState.add(state);
    }
    startPolling(state);
    return state;
  }

  /**
   * For a demand-driven pool of a repository, asks GitHub for its queued jobs on the polling
   * period, so that a lost webhook costs one period at most and a host GitHub cannot reach still
   * scales. GitHub lists queued jobs per repository only: pools of an organization or enterprise
   * learn of jobs through webhooks alone.
   */
  private void startPolling(PoolState state) {
    if (polling.isEmpty() || polledJobs.isEmpty()) {
      return;
    }
    Pool pool = state.pool;
    synchronized (lock) {
      if (pool.scaling().isEmpty() || state.reconciler != null) {
        return;
      }
      if (pool.runner().scope().kind() != RunnerScope.Kind.REPO) {
        LOG.warn(
            "Pool {}: GitHub lists queued jobs per repository only; the {} {} learns of its jobs"
                + " from webhooks alone",
            pool.name(),
            pool.runner().scope().kind().optionValue(),
            pool.runner().scope().principal());
        return;
      }
      state.reconciler =
          new DemandReconciler(
                  state.github, polledJobs.get().jobs(), polling.get(), Clock.systemUTC())
              .start();
    }
  }

  private void stopPolling(PoolState state) {
    DemandReconciler reconciler;
    synchronized (lock) {
      reconciler = state.reconciler;
      state.reconciler = null;
    }
    if (reconciler != null) {
      reconciler.close();
    }
  }

  /** Deletes a pool's journal once it holds nothing; else keeps it for the next start. */
  private void retire(PoolState state) {
    stopPolling(state);
    try {
      if (state.journal.isEmpty()) {
        state.journal.delete();
      } else {
        LOG.warn(
            "Some registrations could not be removed; {} lists them for the next start",
            state.journal.file());
      }
    } catch (IOException e) {
      LOG.warn("Could not delete {}: {}", state.journal.file(), e.getMessage());
    }
  }

  private MicroVmRuntime createRuntime(String name) throws RuntimeUnavailableException {
    RuntimeOptions options =
        RuntimeOptions.builder(owner, config.stateDirectory().resolve("vm"))
            .environment(config.runtimeEnvironment())
            .redactor(redactor::redact)
            .build();
    MicroVmRuntime runtime;
    try {
      runtime =
          name.equals(OrchestratorConfig.AUTO_RUNTIME)
              ? MicroVmRuntimes.detect(options)
              : MicroVmRuntimes.create(name, options);
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

  /**
   * Removes what dead instances of the same prefix on this host left: VMs, registrations. A dead
   * instance's journal names its GitHub and scope (journals of earlier versions do not: the first
   * pool's are theirs); one whose scope no pool here serves is kept for an instance that does.
   */
  private void recoverFromCrash() throws IOException {
    boolean orphansGone = true;
    List<MicroVmRuntime> all;
    synchronized (lock) {
      all = givenRuntime.isPresent() ? List.of(givenRuntime.get()) : List.copyOf(runtimes.values());
    }
    for (MicroVmRuntime runtime : all) {
      try {
        for (VmInfo orphan : runtime.listOrphans()) {
          LOG.warn(
              "Removing VM {} left by a dead instance (pid {})",
              orphan.name(),
              orphan.owner().pid());
          runtime.delete(orphan.name());
        }
      } catch (VmException e) {
        orphansGone = false;
        LOG.warn("Could not list or remove orphaned VMs: {}", e.getMessage());
      }
    }
    for (InstanceJournal.Abandoned abandoned :
        InstanceJournal.findAbandoned(config.stateDirectory(), config.prefix(), owner.host())) {
      InstanceJournal.State state = abandoned.state();
      boolean complete = true;
      Optional<GitHubRunnerClient> github = clientOf(state);
      if (github.isEmpty() && !state.registrations().isEmpty()) {
        LOG.warn(
            "{} lists registrations in {} {} at {}, which no pool here serves; keeping it",
            abandoned.file(),
            state.scope(),
            state.principal(),
            state.github());
        complete = false;
      }
      for (Map.Entry<String, Long> registration : state.registrations().entrySet()) {
        if (github.isEmpty()) {
          break;
        }
        try {
          Registrar.removeAbandoned(github.get(), registration.getKey(), registration.getValue());
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

  /** The client of this configuration for a dead instance's journal. */
  private Optional<GitHubRunnerClient> clientOf(InstanceJournal.State state) {
    if (givenGitHub.isPresent()) {
      return givenGitHub;
    }
    if (state.github() == null) {
      return Optional.of(clientFor(config.runner()));
    }
    for (Pool pool : config.pools()) {
      RunnerConfig runner = pool.runner();
      if (runner.target().apiBase().toString().equals(state.github())
          && runner.scope().kind().optionValue().equals(state.scope())
          && runner.scope().principal().equals(state.principal())) {
        return Optional.of(clientFor(runner));
      }
    }
    return Optional.empty();
  }

  private void pullOnce(MicroVmRuntime runtime, RunnerConfig runner)
      throws RuntimeUnavailableException {
    String image = runner.vm().image();
    synchronized (lock) {
      if (!pulled.add(runtime.name() + " " + image + " " + runner.pull())) {
        return;
      }
    }
    try {
      runtime.pull(image, runner.pull());
    } catch (VmException e) {
      synchronized (lock) {
        pulled.remove(runtime.name() + " " + image + " " + runner.pull());
      }
      throw new RuntimeUnavailableException(
          "cannot pull image " + image + ": " + e.getMessage(), e);
    }
  }

  /**
   * Warns when the image's actions/runner is older than what GitHub serves, and refuses to start
   * when GitHub no longer accepts it: every VM would boot only to be turned away.
   */
  private void checkRunnerVersion(
      MicroVmRuntime runtime, GitHubRunnerClient github, RunnerConfig runner)
      throws RunnerVersionException {
    String image = runner.vm().image();
    Optional<String> version;
    try {
      version = RunnerVersionCheck.runnerVersion(runtime, runner.vm(), CommandRunner.commonsExec());
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

  private void runLoops(List<PoolState> initial) throws IOException, InterruptedException {
    List<PoolState> plan = new ArrayList<>();
    for (PoolState pool : initial) {
      // The scaler starts a demand-driven pool's loops, min-idle first.
      int fixedLoops = pool.pool.scaling().isPresent() ? 0 : pool.pool.loops();
      for (int i = 0; i < fixedLoops; i++) {
        plan.add(pool);
      }
    }
    synchronized (lock) {
      running = true;
    }
    Thread scaler = new Thread(this::scaleUntilStopped, "scale-pools");
    scaler.setDaemon(true);
    scaler.start();
    try {
      startLoops(plan, new ArrayDeque<>());
    } catch (IOException | RuntimeException | InterruptedException e) {
      // The loops already running must end before their directories can go.
      stop(false);
      awaitLoops();
      throw e;
    }
    awaitLoops();
  }

  /**
   * Waits until every loop ended and no reconfiguration is under way; while a pool follows demand,
   * until the orchestrator is stopped (such a pool may have no loop for a while).
   */
  private void awaitLoops() throws InterruptedException {
    synchronized (lock) {
      while (!live.isEmpty()
          || reconfigurations > 0
          || (!stopping && pools.values().stream().anyMatch(p -> p.pool.scaling().isPresent()))) {
        lock.wait();
      }
      finished = true;
    }
  }

  /**
   * Starts one loop per entry of {@code plan}, in order: with isolation, while fewer than {@code
   * parallel-start} loops are starting (not yet registered, within the start timeout); without,
   * {@code sleep} apart.
   */
  private void startLoops(List<PoolState> plan, Deque<StartedLoop> starting)
      throws IOException, InterruptedException {
    for (int i = 0; i < plan.size() && !stopping; i++) {
      if (config.isolation()) {
        while (starting.size() >= config.parallelStart() && !stopping) {
          awaitStart(starting.poll());
        }
      } else if (i > 0) {
        time.await(stopSignal, config.isolationOffDelay());
      }
      if (stopping) {
        break;
      }
      StartedLoop started = startLoop(plan.get(i), Optional.empty());
      if (started == null) {
        continue;
      }
      starting.add(started);
    }
  }

  /** Waits for a loop's first registration, for what is left of its start timeout. */
  private void awaitStart(StartedLoop loop) throws InterruptedException {
    Duration left = Duration.ofNanos(Math.max(0, loop.startDeadlineNanos - time.nanoTime()));
    if (!time.await(loop.firstRegistration, left)) {
      LOG.warn(
          "Loop {} has not registered a runner within {} s; starting the next loop anyway",
          loop.number,
          config.startTimeout().toSeconds());
    }
  }

  /**
   * Starts one loop of {@code pool}, numbered {@code number} or the lowest free number; null when
   * the orchestrator is stopping or GitHub refused the pool's credentials.
   */
  private StartedLoop startLoop(PoolState pool, Optional<Integer> number) throws IOException {
    if (pool.refused()) {
      number.ifPresent(
          n -> {
            synchronized (lock) {
              numbers.remove(n);
            }
          });
      return null;
    }
    int loopNumber;
    synchronized (lock) {
      if (number.isPresent()) {
        loopNumber = number.get();
      } else {
        loopNumber = config.firstLoop();
        if (config.isolation()) {
          while (numbers.contains(loopNumber)) {
            loopNumber++;
          }
        } else {
          loopNumber = config.firstLoop() + numbers.size();
        }
      }
      numbers.add(loopNumber);
    }
    Path directoryPath =
        config.isolation()
            ? baseDirectory.resolve(String.format("%s-%03d", config.prefix(), loopNumber))
            : baseDirectory.resolve(config.prefix() + "-shared");
    HostLoopDirectory loopDirectory;
    try {
      loopDirectory = HostLoopDirectory.create(directoryPath, loopNumber);
    } catch (IOException | RuntimeException e) {
      synchronized (lock) {
        numbers.remove(loopNumber);
      }
      throw e;
    }
    RunnerConfig runner = pool.pool.runner();
    String poolName = pool.pool.name();
    // A secret of the configuration serves every loop; a generated one only this loop.
    Optional<LoopSecret> generated =
        runner.secret().isPresent() ? Optional.empty() : Optional.of(LoopSecret.generate());
    LoopSecret secret = generated.orElseGet(() -> runner.secret().orElseThrow());
    redactor.add(secret.reveal());
    CountDownLatch firstRegistration = new CountDownLatch(1);
    LoopListener loopListener =
        event -> {
          if (event instanceof Ended ended) {
            if (ended.reason() == EndReason.GITHUB_REFUSED && !stopping) {
              refused(pool, event.loop());
            }
            generated.ifPresent(s -> redactor.forget(s.reveal()));
          }
          if (event instanceof Registered || event instanceof Ended) {
            firstRegistration.countDown();
          }
          listener.onEvent(event);
          poolListener.onEvent(poolName, event);
        };
    RunnerLoop loop =
        new RunnerLoop(
            loopNumber, poolName, runner, loopDirectory, secret, loopListener, pool.shared);
    StartedLoop startedLoop =
        new StartedLoop(
            loop,
            pool,
            loopNumber,
            loopDirectory,
            firstRegistration,
            time.nanoTime() + config.startTimeout().toNanos());
    loop.whileWanted(() -> stillWanted(startedLoop));
    synchronized (lock) {
      if (stopping) {
        return null;
      }
      live.add(startedLoop);
      pool.loops.add(startedLoop);
      startedLoop.thread.start();
    }
    return startedLoop;
  }

  /**
   * GitHub refused a loop of {@code pool}: every loop using the same GitHub client (the same
   * credentials and scope) ends now rather than when its current job ends, and none of them starts
   * again. When that is every pool, the orchestrator stops.
   */
  private void refused(PoolState pool, int loop) {
    Optional<Client> client = clientEntry(pool.github);
    List<StartedLoop> affected = new ArrayList<>();
    boolean everyPool;
    synchronized (lock) {
      client.ifPresent(c -> c.refused = true);
      pool.refused = true;
      everyPool = true;
      for (PoolState other : pools.values()) {
        if (other.github == pool.github) {
          other.refused = true;
          affected.addAll(other.loops);
        } else {
          everyPool = false;
        }
      }
    }
    if (everyPool || givenGitHub.isPresent()) {
      LOG.error("GitHub refused loop {}; stopping every loop", loop);
      stop(false);
      return;
    }
    LOG.error(
        "GitHub refused loop {} of pool {}; stopping every loop with the same credentials and scope",
        loop,
        pool.pool.name());
    affected.forEach(l -> l.loop.stop(false));
  }

  private void deleteDirectories() {
    List<StartedLoop> loops;
    synchronized (lock) {
      loops = List.copyOf(everyLoop);
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

  private final List<StartedLoop> everyLoop = new ArrayList<>();

  /** A loop thread ended: its outcome counts, and the loop no longer runs. */
  private void ended(StartedLoop loop) {
    boolean scaledDown;
    synchronized (lock) {
      Ended outcome = loop.outcome;
      if (outcome != null
          && loop.scaledDown
          && outcome.reason() == EndReason.STOPPED
          && outcome.failure().isEmpty()) {
        runnersOfShrunkLoops += outcome.runners();
      } else if (outcome != null) {
        outcomes.add(outcome);
      }
      live.remove(loop);
      loop.pool.loops.remove(loop);
      scaledDown = loop.scaledDown;
      lock.notifyAll();
    }
    if (scaledDown) {
      // Its VMs have ended (the loop returned), but this is still its thread.
      background.execute(() -> forget(loop, true));
    }
  }

  /**
   * Sizes the demand-driven pools until the orchestrator stops: each round starts loops while a
   * pool is below its target (its busy runners, its queued jobs and {@code min-idle}, at most
   * {@code max} VMs, no more loops starting at once than {@code parallel-start}) and stops runners
   * that waited beyond the idle timeout while it is above. Demand changes wake it early.
   */
  private void scaleUntilStopped() {
    demand.changed(
        () -> {
          synchronized (scaleSignal) {
            scaleSignal.notifyAll();
          }
        });
    while (!stopping) {
      try {
        scaleOnce();
      } catch (IOException | RuntimeException e) {
        LOG.error("Scaling the pools failed: {}", redactor.redact(String.valueOf(e.getMessage())));
      }
      synchronized (scaleSignal) {
        try {
          scaleSignal.wait(SCALE_PERIOD.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void scaleOnce() throws IOException {
    Map<PoolState, Integer> starts = new LinkedHashMap<>();
    List<StartedLoop> stops = new ArrayList<>();
    synchronized (lock) {
      if (stopping || reconfigurations > 0) {
        return;
      }
      long now = time.nanoTime();
      int starting =
          (int)
              live.stream()
                  .filter(l -> l.firstRegistration.getCount() > 0 && now < l.startDeadlineNanos)
                  .count();
      for (PoolState pool : pools.values()) {
        Optional<Scaling> scaling = pool.pool.scaling();
        if (scaling.isEmpty() || pool.refused()) {
          continue;
        }
        List<StartedLoop> active = active(pool);
        int target = target(pool, active);
        if (active.size() < target) {
          int room = Math.min(target - active.size(), scaling.get().max() - pool.loops.size());
          int allowed = Math.min(room, Math.max(0, config.parallelStart() - starting));
          if (allowed > 0) {
            starts.put(pool, allowed);
            starting += allowed;
          }
        } else if (active.size() > target) {
          long timeout = scaling.get().idleTimeout().toNanos();
          active.stream()
              .filter(l -> l.loop.state() == RunnerStatus.State.IDLE)
              .filter(l -> now - l.loop.idleSinceNanos() >= timeout)
              .sorted(Comparator.comparingLong(l -> l.loop.idleSinceNanos()))
              .limit(active.size() - target)
              .forEach(
                  l -> {
                    l.scaledDown = true;
                    stops.add(l);
                  });
        }
      }
    }
    for (StartedLoop loop : stops) {
      LOG.info(
          "Pool {}: loop {} idle beyond its idle timeout; stopping it",
          loop.pool.pool.name(),
          loop.number);
      loop.loop.stop(false);
    }
    for (Map.Entry<PoolState, Integer> start : starts.entrySet()) {
      LOG.info(
          "Pool {}: starting {} loop(s) for its queued jobs and min-idle",
          start.getKey().pool.name(),
          start.getValue());
      for (int i = 0; i < start.getValue() && !stopping; i++) {
        startLoop(start.getKey(), Optional.empty());
      }
    }
  }

  /** A pool's loops that are not ending because it shrank. Called under lock. */
  private static List<StartedLoop> active(PoolState pool) {
    return pool.loops.stream().filter(l -> !l.scaledDown).toList();
  }

  /** How many loops a demand-driven pool wants now. Called under lock. */
  private int target(PoolState pool, List<StartedLoop> active) {
    int busy = (int) active.stream().filter(l -> l.loop.state() == RunnerStatus.State.BUSY).count();
    int queued;
    try {
      queued = Math.max(0, demand.queuedFor(pool.pool));
    } catch (RuntimeException e) {
      LOG.warn("Demand of pool {} unknown: {}", pool.pool.name(), e.toString());
      queued = 0;
    }
    return pool.pool.scaling().orElseThrow().target(busy, queued);
  }

  /**
   * Whether a loop whose runner just finished a job should start another: always for fixed pools;
   * for a demand-driven pool, only while the pool is not above its target.
   */
  private boolean stillWanted(StartedLoop loop) {
    synchronized (lock) {
      if (stopping || loop.pool.pool.scaling().isEmpty()) {
        return true;
      }
      List<StartedLoop> active = active(loop.pool);
      if (active.size() > target(loop.pool, active)) {
        loop.scaledDown = true;
        return false;
      }
      return true;
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

  /** One GitHub client and the runner configurations it serves. */
  private static final class Client {
    final RunnerConfig first;
    final GitHubRunnerClient client;
    boolean refused;

    Client(RunnerConfig first, GitHubRunnerClient client) {
      this.first = first;
      this.client = client;
    }

    /** Same GitHub, same scope, same credentials. */
    boolean serves(RunnerConfig runner) {
      return first.target().equals(runner.target())
          && first.scope().equals(runner.scope())
          && sameCredentials(first.credentials(), runner.credentials());
    }

    private static boolean sameCredentials(Credentials a, Credentials b) {
      return a.equals(b);
    }
  }

  /** What the loops of one pool share, and which of them run. */
  private static final class PoolState {
    volatile Pool pool;
    final GitHubRunnerClient github;
    final Registrar registrar;
    final InstanceJournal journal;
    final RunnerLoop.Shared shared;
    final List<StartedLoop> loops = new ArrayList<>();
    volatile boolean refused;
    // Guarded by lock; set while the pool follows demand with polling.
    DemandReconciler reconciler;

    PoolState(
        Pool pool,
        GitHubRunnerClient github,
        Registrar registrar,
        InstanceJournal journal,
        RunnerLoop.Shared shared) {
      this.pool = pool;
      this.github = github;
      this.registrar = registrar;
      this.journal = journal;
      this.shared = shared;
    }

    boolean refused() {
      return refused;
    }
  }

  private final class StartedLoop {
    final RunnerLoop loop;
    final PoolState pool;
    final int number;
    final HostLoopDirectory directory;
    final CountDownLatch firstRegistration;
    final long startDeadlineNanos;
    final Thread thread;
    volatile Ended outcome;
    // Set (under lock) when its demand-driven pool no longer needs it: it ends, and is forgotten.
    boolean scaledDown;

    StartedLoop(
        RunnerLoop loop,
        PoolState pool,
        int number,
        HostLoopDirectory directory,
        CountDownLatch firstRegistration,
        long startDeadlineNanos) {
      this.loop = loop;
      this.pool = pool;
      this.number = number;
      this.directory = directory;
      this.firstRegistration = firstRegistration;
      this.startDeadlineNanos = startDeadlineNanos;
      this.thread =
          new Thread(
              () -> {
                try {
                  outcome = loop.run();
                } finally {
                  org.slf4j.MDC.clear();
                  ended(this);
                }
              },
              "loop-" + number);
      synchronized (lock) {
        everyLoop.add(this);
      }
    }
  }

  /** Builds an orchestrator; the runtime and GitHub client may be given (embedding, tests). */
  public static final class Builder {
    private final OrchestratorConfig config;
    private LoopListener listener = LoopListener.none();
    private PoolListener poolListener = PoolListener.none();
    private MicroVmRuntime runtime;
    private GitHubRunnerClient github;
    private GitHubCallObserver githubObserver = GitHubCallObserver.none();
    private Demand demand = Demand.none();
    private QueuedJobs polledJobs;
    private DemandReconciler.Options polling;
    private HostCapacity host;
    private Redactor redactor = new Redactor();
    private LoopTime time = LoopTime.SYSTEM;

    private Builder(OrchestratorConfig config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    public Builder listener(LoopListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Receives every event with its loop's pool, and the pools as they change. */
    public Builder poolListener(PoolListener poolListener) {
      this.poolListener = Objects.requireNonNull(poolListener, "poolListener");
      return this;
    }

    /** Uses this runtime for every pool instead of creating them; it is not closed. */
    public Builder runtime(MicroVmRuntime runtime) {
      this.runtime = runtime;
      return this;
    }

    /** Uses this client for every pool instead of creating them; it is not closed. */
    public Builder github(GitHubRunnerClient github) {
      this.github = github;
      return this;
    }

    /** Told about every exchange of the GitHub clients the orchestrator makes (metrics). */
    public Builder githubObserver(GitHubCallObserver observer) {
      this.githubObserver = Objects.requireNonNull(observer, "observer");
      return this;
    }

    /**
     * Masks the loops' secrets with this redactor, which the caller may share with its own log
     * output; by default the orchestrator has one of its own.
     */
    /** Where demand-driven pools learn how many queued jobs their runners could take. */
    public Builder demand(Demand demand) {
      this.demand = Objects.requireNonNull(demand, "demand");
      this.polledJobs = null;
      this.polling = null;
      return this;
    }

    /**
     * Demand from GitHub's queued jobs, which webhooks feed through {@link QueuedJobs#accept};
     * {@code polling} also asks GitHub for the queued jobs of each demand-driven pool's repository
     * on its period.
     */
    public Builder demand(QueuedJobs jobs, DemandReconciler.Options polling) {
      this.demand = Objects.requireNonNull(jobs, "jobs");
      this.polledJobs = jobs;
      this.polling = Objects.requireNonNull(polling, "polling");
      return this;
    }

    /** The host demand-driven pools are checked against; this machine unless given. */
    public Builder hostCapacity(HostCapacity capacity) {
      this.host = Objects.requireNonNull(capacity, "capacity");
      return this;
    }

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
