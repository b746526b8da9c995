package dev.microrunner.loop;

import dev.microrunner.github.GitHubException;
import dev.microrunner.handshake.HandshakeException;
import dev.microrunner.handshake.HandshakeFile;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.LoopEvent.BackingOff;
import dev.microrunner.loop.LoopEvent.EndReason;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.LoopEvent.Registered;
import dev.microrunner.loop.LoopEvent.RegistrationRemoved;
import dev.microrunner.loop.LoopEvent.RunnerCreated;
import dev.microrunner.loop.LoopEvent.RunnerStateChanged;
import dev.microrunner.loop.LoopEvent.Started;
import dev.microrunner.loop.LoopEvent.VmExited;
import dev.microrunner.loop.LoopEvent.VmStarted;
import dev.microrunner.loop.internal.Registrar;
import dev.microrunner.loop.internal.Registrar.Registration;
import dev.microrunner.vm.EnvironmentMount;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmSpec;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One runner loop: creates one runner at a time, each in a fresh VM, until its repeat count, its
 * lifetime, a break file holding the secret, a stop request or a fatal error ends it. Created and
 * run by the {@link Orchestrator}; {@link #run()} blocks on the calling thread.
 *
 * <p>The host gap between one VM's exit and the next VM's start is kept short: the next runner's
 * registration is obtained from GitHub while the current VM runs, and the removal of the ended
 * runner's registration and VM happens in the background.
 */
public final class RunnerLoop {

  private static final Logger LOG = LoggerFactory.getLogger(RunnerLoop.class);
  private static final Logger CONSOLE = LoggerFactory.getLogger("microrunner.console");

  /** How often the loop looks at its stop flag and lifetime while a VM runs. */
  private static final Duration SLICE = Duration.ofMillis(50);

  /** Runners closer together than this are treated as this far apart when sizing the prefetch. */
  private static final Duration MIN_CYCLE = Duration.ofMillis(1);

  /** How long a started VM has the host to itself before the loop's own work resumes. */
  private static final Duration QUIET_START = Duration.ofMillis(10);

  /** How long a VM gets to end after a forced stop starts (signal, then kill). */
  private static final Duration FORCED_STOP_GRACE = Duration.ofSeconds(2);

  /**
   * What the loops of one orchestrator share.
   *
   * @param vmPrefix VM names are {@code <vmPrefix>-<runner id>}
   * @param guestUser the user that runs the runner in the VM
   * @param background runs registrations ahead and removals afterwards, off the loop's path
   */
  record Shared(
      MicroVmRuntime runtime,
      Registrar registrar,
      String vmPrefix,
      String guestUser,
      ExecutorService background,
      LoopTime time,
      Redactor redactor) {}

  private final int loop;
  private final RunnerConfig config;
  private final HostLoopDirectory directory;
  private final LoopSecret secret;
  private final LoopListener listener;
  private final MicroVmRuntime runtime;
  private final Registrar registrar;
  private final ExecutorService background;
  private final LoopTime time;
  private final Redactor redactor;
  private final Shared shared;
  private final String pool;
  private volatile RunnerStatus.State state = RunnerStatus.State.STARTING;
  private volatile long idleSinceNanos;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final List<CompletableFuture<Void>> removals = new ArrayList<>();
  private final List<Runnable> pendingRemovals = new ArrayList<>();
  private final Deque<CompletableFuture<Registration>> prepared = new ArrayDeque<>();
  private int prefetchDepth = 1;
  private volatile long registrationNanos;
  private long lastHandedOutNanos;
  private volatile boolean stopRequested;
  private volatile boolean skipGrace;
  private long deadlineNanos = Long.MAX_VALUE;
  private int servedRunners;
  private int failuresInARow;
  private volatile BooleanSupplier wanted = () -> true;

  RunnerLoop(
      int loop,
      RunnerConfig config,
      HostLoopDirectory directory,
      LoopSecret secret,
      LoopListener listener,
      Shared shared) {
    this(loop, Pool.DEFAULT_NAME, config, directory, secret, listener, shared);
  }

  RunnerLoop(
      int loop,
      String pool,
      RunnerConfig config,
      HostLoopDirectory directory,
      LoopSecret secret,
      LoopListener listener,
      Shared shared) {
    this.loop = loop;
    this.pool = pool;
    this.config = config;
    this.directory = directory;
    this.secret = secret;
    this.listener = listener;
    this.shared = shared;
    this.runtime = shared.runtime();
    this.registrar = shared.registrar();
    this.background = shared.background();
    this.time = shared.time();
    this.redactor = shared.redactor();
  }

  public int loop() {
    return loop;
  }

  /**
   * Asks {@code stillWanted} each time a runner of this loop finished a job: when it says no, the
   * loop ends ({@link EndReason#STOPPED}) instead of starting another VM, so that a demand-driven
   * pool shrinks as its jobs end rather than after an idle timeout.
   */
  void whileWanted(BooleanSupplier stillWanted) {
    this.wanted = stillWanted;
  }

  /** The state of the loop's current runner, as last reported (STARTING before the first). */
  RunnerStatus.State state() {
    return state;
  }

  /** When the current runner became idle ({@link LoopTime#nanoTime}); meaningless unless idle. */
  long idleSinceNanos() {
    return idleSinceNanos;
  }

  /**
   * Puts the loop's pool, number and (when given) runner id into SLF4J's MDC of this thread, for
   * log backends that write them as fields ({@code pool}, {@code loop}, {@code runner}).
   */
  private void mdc(Optional<RunnerId> runner) {
    MDC.put("pool", pool);
    MDC.put("loop", String.valueOf(loop));
    if (runner.isPresent()) {
      MDC.put("runner", runner.get().toString());
    } else {
      MDC.remove("runner");
    }
  }

  /**
   * Asks the loop to end: the running VM gets {@code .trm}, then the grace period, then a forced
   * stop; with {@code skipGrace} the forced stop comes at once. Registrations are removed either
   * way. Returns at once; {@link #run()} returns when it is done.
   */
  public void stop(boolean skipGrace) {
    if (skipGrace) {
      this.skipGrace = true;
    }
    stopRequested = true;
    stopSignal.countDown();
  }

  /** Runs the loop on the calling thread until it ends, and says how it ended. Never throws. */
  public Ended run() {
    mdc(Optional.empty());
    emit(new Started(loop, time.now(), time.nanoTime()));
    // The lifetime counts from here.
    config.lifetime().ifPresent(l -> deadlineNanos = time.nanoTime() + l.toNanos());
    EndReason reason;
    Optional<Exception> failure = Optional.empty();
    try {
      reason = iterate();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      reason = EndReason.STOPPED;
    } catch (GitHubException e) {
      LOG.error("Loop {}: GitHub refused the registration: {}", loop, e.getMessage());
      reason = EndReason.GITHUB_REFUSED;
      failure = Optional.of(e);
    } catch (RunnerVersionException e) {
      LOG.error("Loop {}: {}", loop, e.getMessage());
      reason = EndReason.RUNNER_VERSION;
      failure = Optional.of(e);
    } catch (IOException | RuntimeException e) {
      LOG.error("Loop {} failed: {}", loop, e.getMessage(), e);
      reason = EndReason.FAILED;
      failure = Optional.of(e);
    }
    startRemovals();
    prepared.forEach(this::discard);
    prepared.clear();
    awaitRemovals();
    Ended ended = new Ended(loop, reason, servedRunners, failure, time.now(), time.nanoTime());
    emit(ended);
    return ended;
  }

  /**
   * Runs runners until one of the loop's ends.
   *
   * @throws GitHubException only when GitHub refused for good; other failures back off
   * @throws RunnerVersionException when a runner reported that GitHub will not take its version
   */
  private EndReason iterate()
      throws GitHubException, RunnerVersionException, IOException, InterruptedException {
    while (true) {
      Optional<EndReason> end = endReason();
      if (end.isPresent()) {
        return end.get();
      }
      Registration registration;
      try {
        registration = nextRegistration();
      } catch (GitHubException e) {
        if (e.isRefusal()) {
          throw e;
        }
        backOff("GitHub: " + e.getMessage());
        continue;
      }
      Iteration iteration = new Iteration(registration);
      try {
        iteration.run();
      } catch (HandshakeException e) {
        // The guest writes in that directory: what it plants may fail this VM, not the loop.
        iteration.failure = "handshake with " + iteration.id + " failed: " + e.getMessage();
      }
      if (iteration.breakRequested) {
        LOG.info("Loop {}: break file of {} holds the secret, ending the loop", loop, iteration.id);
        return EndReason.BREAK;
      }
      iteration.judge();
      if (iteration.versionProblem != null) {
        throw iteration.versionProblem;
      }
      if (iteration.served) {
        servedRunners++;
        failuresInARow = 0;
        if (endReason().isEmpty() && !wanted.getAsBoolean()) {
          LOG.info("Loop {}: its pool needs no more runners; ending", loop);
          return EndReason.STOPPED;
        }
      } else if (iteration.failure != null && !stopRequested && !lifetimeExpired()) {
        backOff(iteration.failure);
      }
    }
  }

  private Optional<EndReason> endReason() {
    if (stopRequested) {
      return Optional.of(EndReason.STOPPED);
    }
    if (lifetimeExpired()) {
      return Optional.of(EndReason.LIFETIME);
    }
    if (config.repeat() >= 0 && servedRunners >= config.repeat()) {
      return Optional.of(EndReason.COMPLETED);
    }
    return Optional.empty();
  }

  private boolean lifetimeExpired() {
    return time.nanoTime() - deadlineNanos >= 0;
  }

  /**
   * Keeps up to {@link #prefetchDepth} registrations in preparation, fetched concurrently, so that
   * the next VM never waits behind GitHub. Called right after a VM started, and before the loop
   * waits for a registration that is late.
   */
  private void prepareAhead() {
    while (prepared.size() < prefetchDepth
        && !stopRequested
        && !lifetimeExpired()
        && (config.repeat() < 0 || servedRunners + 1 + prepared.size() < config.repeat())) {
      prepared.add(registerInBackground());
    }
  }

  /**
   * The next prepared registration, else a fresh one. The depth adapts: when the loop has to wait
   * for GitHub (VMs shorter than a registration call) it goes at once to what the last call's
   * duration and the time between two runners need, with room for their jitter, and those
   * registrations are asked for before the wait, not after the next VM started; it shrinks back by
   * one whenever even the newest registration sits ready (VMs longer than a call), so slow jobs
   * hold only one spare registration.
   */
  private Registration nextRegistration()
      throws GitHubException, IOException, InterruptedException {
    CompletableFuture<Registration> next = prepared.poll();
    Registration registration;
    if (next == null) {
      registration = registerNow();
    } else {
      if (!next.isDone()) {
        // One runner's time: its VM and the loop's own work, without waits for GitHub.
        long cycleNanos = Math.max(time.nanoTime() - lastHandedOutNanos, MIN_CYCLE.toNanos());
        long needed = 1 + (3 * registrationNanos / 2) / cycleNanos;
        prefetchDepth = (int) Math.min(config.prefetch(), Math.max(prefetchDepth + 1, needed));
        prepareAhead();
      } else if (prefetchDepth > 1 && !prepared.isEmpty() && prepared.peekLast().isDone()) {
        prefetchDepth--;
      }
      registration = await(next);
    }
    lastHandedOutNanos = time.nanoTime();
    return registration;
  }

  private Registration registerNow() throws GitHubException, IOException {
    long began = time.nanoTime();
    Registration registration =
        registrar.register(RunnerId.random(loop), secret, shared.guestUser());
    registrationNanos = time.nanoTime() - began;
    emit(
        new RunnerCreated(
            loop, registration.id(), registration.name(), time.now(), time.nanoTime()));
    return registration;
  }

  private CompletableFuture<Registration> registerInBackground() {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return registerNow();
          } catch (GitHubException | IOException e) {
            throw new CompletionException(e);
          }
        },
        background);
  }

  private static Registration await(CompletableFuture<Registration> pending)
      throws GitHubException, IOException, InterruptedException {
    try {
      return pending.get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() instanceof CompletionException ? e.getCause().getCause() : e;
      cause = cause instanceof ExecutionException ? cause.getCause() : cause;
      if (cause instanceof GitHubException g) {
        throw g;
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(cause);
    }
  }

  /** Removes a registration prepared for a runner that will never start. */
  private void discard(CompletableFuture<Registration> pending) {
    removals.add(
        pending
            .thenAcceptAsync(
                registration -> removeRegistration(registration, Optional.empty()), background)
            .exceptionally(e -> null));
  }

  private void backOff(String why) throws InterruptedException {
    startRemovals();
    failuresInARow++;
    Duration delay = config.backoff().delay(failuresInARow);
    // The reason quotes GitHub's and the guest's messages; events promise no secret.
    String reason = redactor.redact(printable(why));
    LOG.warn(
        "Loop {}: {}; trying again in {} ms (failure {} in a row)",
        loop,
        reason,
        delay.toMillis(),
        failuresInARow);
    emit(new BackingOff(loop, delay, reason, failuresInARow, time.now(), time.nanoTime()));
    time.await(stopSignal, delay);
  }

  /**
   * Removes the VM (idempotent) and the registration if still there, in the background once the
   * next VM has started ({@link #startRemovals()}): their runtime and GitHub calls would otherwise
   * compete with that start for the host's CPUs.
   */
  private void removeInBackground(Registration registration, Optional<String> vmName) {
    pendingRemovals.add(() -> removeRegistration(registration, vmName));
  }

  /** Hands the pending removals to the background. */
  private void startRemovals() {
    removals.removeIf(CompletableFuture::isDone); // a loop may run for months
    for (Runnable removal : pendingRemovals) {
      removals.add(CompletableFuture.runAsync(removal, background));
    }
    pendingRemovals.clear();
  }

  private void removeRegistration(Registration registration, Optional<String> vmName) {
    vmName.ifPresent(
        name -> {
          try {
            runtime.delete(name);
          } catch (VmException e) {
            LOG.warn("Loop {}: could not delete VM {}: {}", loop, name, e.getMessage());
          }
        });
    try {
      boolean removed = registrar.remove(registration);
      emit(new RegistrationRemoved(loop, registration.id(), removed, time.now(), time.nanoTime()));
    } catch (GitHubException | IOException e) {
      LOG.warn(
          "Loop {}: could not remove the registration of {}: {}",
          loop,
          registration.name(),
          e.getMessage());
    } finally {
      registrar.forgetSecret(registration);
    }
  }

  private void awaitRemovals() {
    for (CompletableFuture<Void> removal : removals) {
      try {
        removal.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (ExecutionException e) {
        LOG.warn("Loop {}: clean-up failed: {}", loop, e.getCause().getMessage());
      }
    }
    removals.clear();
  }

  private void emit(LoopEvent event) {
    try {
      listener.onEvent(event);
    } catch (RuntimeException e) {
      LOG.warn("Loop listener failed on {}: {}", event.getClass().getSimpleName(), e.toString());
    }
  }

  /** The runner's VM: the template, named after the runner, with the handshake wired in. */
  private VmSpec spec(RunnerId id) {
    VmSpec template = config.vm();
    List<String> args = new ArrayList<>(template.args());
    args.addAll(
        List.of(
            "-E",
            EnvironmentMount.guestPath(id.fileName(HandshakeFile.ENV)),
            "-k",
            EnvironmentMount.guestPath(id.fileName(HandshakeFile.TOKEN))));
    return template.toBuilder()
        .name(shared.vmPrefix() + "-" + id)
        .mount(EnvironmentMount.of(directory.path()))
        .args(args)
        .build();
  }

  /** One runner: its VM from start to end, and the clean-up that must happen before the next. */
  private final class Iteration {
    private final Registration registration;
    private final RunnerId id;
    private boolean registered;
    private boolean breakRequested;
    private boolean terminationRequested;
    private Optional<Integer> exitStatus = Optional.empty();

    /** What the agent last reported; untrusted, and trusted with this loop's behaviour only. */
    private Optional<RunnerStatus> reported = Optional.empty();

    private RunnerStatus.State state = RunnerStatus.State.STARTING;
    private String failure;
    private boolean served;
    private RunnerVersionException versionProblem;

    Iteration(Registration registration) {
      this.registration = registration;
      this.id = registration.id();
    }

    /** Runs the VM, preparing the next runners' registrations meanwhile. */
    void run() throws IOException, InterruptedException {
      mdc(Optional.of(id));
      try {
        runVm();
      } finally {
        mdc(Optional.empty());
      }
    }

    private void runVm() throws IOException, InterruptedException {
      VmHandle handle;
      try {
        directory.writeEnv(id, registration.environment());
        handle = runtime.start(spec(id), (vm, line) -> relay(line));
      } catch (VmException | IOException | RuntimeException e) {
        directory.removeRunnerFiles(id);
        removeInBackground(registration, Optional.empty());
        if (e instanceof IOException io) {
          throw io;
        }
        failure = "could not start the VM for " + id + ": " + e.getMessage();
        return;
      }
      emit(new VmStarted(loop, id, handle.name(), time.now(), time.nanoTime()));
      emitState(RunnerStatus.State.STARTING, Optional.empty());
      try {
        // The new VM gets the host to itself for its first moments: the last runner's clean-up
        // and the next registrations (GitHub calls, journal writes) wait until it ended or had
        // QUIET_START, and so does the look-out for its registration, which no VM publishes that
        // soon. On a stand-in podman this took 1.3 ms off a 6.5 ms host gap.
        handle.awaitExit(QUIET_START);
        startRemovals();
        prepareAhead();
        Optional<Integer> exit = awaitRegistration(handle);
        if (registered) {
          exit = awaitEnd(handle, exit);
        } else if (exit.isEmpty()) {
          if (!stopRequested && !lifetimeExpired()) {
            failure = "runner " + id + " did not register within " + config.registrationTimeout();
          }
          exit = terminate(handle);
        } else {
          failure = "the VM of " + id + " exited before registering (status " + exit.get() + ")";
        }
        exitStatus = exit;
        emit(
            new VmExited(
                loop,
                id,
                exit.map(OptionalInt::of).orElse(OptionalInt.empty()),
                time.now(),
                time.nanoTime()));
      } finally {
        if (handle.isRunning()) {
          stopQuietly(handle, Duration.ZERO);
        }
        pollStatus();
        breakRequested = consumeBreak();
        directory.removeRunnerFiles(id);
        removeInBackground(registration, Optional.of(handle.name()));
      }
    }

    private Optional<Integer> awaitRegistration(VmHandle handle)
        throws IOException, InterruptedException {
      long timeout = time.nanoTime() + config.registrationTimeout().toNanos();
      while (!stopRequested && !lifetimeExpired() && time.nanoTime() - timeout < 0) {
        pollStatus();
        if (directory.isRegistered(id)) {
          markRegistered();
          return handle.awaitExit(Duration.ZERO);
        }
        Optional<Integer> exit = handle.awaitExit(Duration.ZERO);
        if (exit.isPresent()) {
          if (directory.isRegistered(id)) {
            markRegistered();
          }
          return exit;
        }
        Optional<RunnerId> seen = directory.awaitRegistration(SLICE);
        if (seen.isPresent() && !seen.get().equals(id)) {
          // Another id's token file (a shared directory without isolation) would make
          // awaitRegistration return at once: wait on the VM instead of spinning.
          handle.awaitExit(SLICE);
        }
      }
      return handle.awaitExit(Duration.ZERO);
    }

    private void markRegistered() {
      registered = true;
      emit(new Registered(loop, id, registration.name(), time.now(), time.nanoTime()));
    }

    private Optional<Integer> awaitEnd(VmHandle handle, Optional<Integer> exit)
        throws IOException, InterruptedException {
      while (exit.isEmpty()) {
        if (stopRequested || lifetimeExpired()) {
          return terminate(handle);
        }
        exit = handle.awaitExit(SLICE);
        pollStatus();
      }
      return exit;
    }

    /** Takes the agent's newest report, if it wrote one since the last look. */
    private void pollStatus() throws IOException {
      Optional<RunnerStatus> status = directory.consumeStatus(id);
      if (status.isEmpty()) {
        return;
      }
      reported = status;
      RunnerStatus now = status.get();
      Optional<RunnerStatus.Job> job =
          now.job()
              .map(j -> new RunnerStatus.Job(redactor.redact(printable(j.name())), j.result()));
      if (now.state() != state) {
        if (now.state() == RunnerStatus.State.BUSY) {
          LOG.info("Loop {}: {} runs job {}", loop, id, job.map(RunnerStatus.Job::name).orElse(""));
        }
        emitState(now.state(), job);
      }
    }

    private void emitState(RunnerStatus.State newState, Optional<RunnerStatus.Job> job) {
      state = newState;
      if (newState == RunnerStatus.State.IDLE && RunnerLoop.this.state != newState) {
        idleSinceNanos = time.nanoTime();
      }
      RunnerLoop.this.state = newState;
      emit(new RunnerStateChanged(loop, id, newState, job, time.now(), time.nanoTime()));
    }

    /**
     * Decides, after the VM ended, whether this runner served and what failed. The agent's report
     * decides only this loop's course: a forged one can at worst end the loop or slow it down.
     */
    void judge() {
      Optional<RunnerStatus.Ending> ending = reported.flatMap(RunnerStatus::ending);
      if (ending.isEmpty()) {
        // No report (another entrypoint, an agent killed by force): registered and ended is
        // all there is to go by.
        if (reported.map(r -> r.jobsStarted() > 0).orElse(false)) {
          served = true;
        } else if (registered && failure == null) {
          served = reported.isEmpty();
        }
        return;
      }
      String version = reported.flatMap(RunnerStatus::runnerVersion).orElse("unknown");
      String detail = redactor.redact(printable(ending.get().detail()));
      switch (ending.get().outcome()) {
        case JOB_DONE -> served = true;
        case STOPPED -> served = reported.get().jobsStarted() > 0;
        case VERSION_REFUSED ->
            versionProblem =
                new RunnerVersionException(
                    "GitHub refused actions/runner "
                        + version
                        + ", the runner version of image "
                        + config.vm().image()
                        + ": it is older than GitHub accepts. Rebuild the image with `microrunner"
                        + " image build` (it installs the current pinned release) and restart.",
                    version);
        case UPDATE_REQUESTED ->
            versionProblem =
                new RunnerVersionException(
                    "GitHub asked actions/runner "
                        + version
                        + " of image "
                        + config.vm().image()
                        + " to update itself, which every new VM would do again before its job."
                        + " Rebuild the image with `microrunner image build` and restart.",
                    version);
        case NO_JOB -> {
          if (!terminationRequested) {
            failure =
                "runner "
                    + id
                    + " ended without a job"
                    + exitStatus.map(s -> " (VM status " + s + ")").orElse("")
                    + ": "
                    + detail;
          }
        }
      }
    }

    /** {@code .trm}, the grace period (cut short by a second stop request), a forced stop. */
    private Optional<Integer> terminate(VmHandle handle) throws IOException, InterruptedException {
      terminationRequested = true;
      if (!skipGrace) {
        pollStatus();
        LOG.info(
            "Loop {}: asking {} to terminate ({})",
            loop,
            id,
            state == RunnerStatus.State.BUSY
                ? "busy: it cancels its job and reports it"
                : "not busy: it goes offline");
        directory.requestTermination(id, secret);
        emitState(RunnerStatus.State.STOPPING, Optional.empty());
        long graceEnd = time.nanoTime() + config.grace().toNanos();
        while (!skipGrace && time.nanoTime() - graceEnd < 0) {
          Optional<Integer> exit = handle.awaitExit(SLICE);
          if (exit.isPresent()) {
            return exit;
          }
        }
      }
      LOG.warn("Loop {}: {} still running, stopping it", loop, id);
      // Even now the agent gets a moment after SIGTERM: it takes its runner offline, which
      // GitHub needs before it lets the registration be removed.
      stopQuietly(handle, FORCED_STOP_GRACE);
      return handle.awaitExit(Duration.ZERO);
    }

    private void stopQuietly(VmHandle handle, Duration grace) {
      try {
        handle.stop(grace);
      } catch (VmException e) {
        LOG.warn("Loop {}: could not stop {}: {}", loop, handle.name(), e.getMessage());
      }
    }

    private boolean consumeBreak() {
      try {
        return directory.consumeBreak(id, secret);
      } catch (IOException e) {
        LOG.warn("Loop {}: ignoring the break file of {}: {}", loop, id, e.getMessage());
        return false;
      }
    }

    private void relay(String line) {
      // The runtime's reader thread: give it the loop's fields too.
      mdc(Optional.of(id));
      CONSOLE.info("[{}] {}", id, redactor.redact(printable(line)));
    }
  }

  /** Guest output is hostile: no control characters (terminal escapes, fake log lines). */
  static String printable(String line) {
    StringBuilder out = new StringBuilder(line.length());
    line.codePoints()
        .forEach(c -> out.appendCodePoint(Character.isISOControl(c) && c != '\t' ? '?' : c));
    return out.toString();
  }
}
