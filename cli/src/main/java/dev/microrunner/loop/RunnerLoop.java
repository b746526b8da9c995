package dev.microrunner.loop;

import dev.microrunner.github.GitHubAuthenticationException;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubPermissionException;
import dev.microrunner.github.GitHubValidationException;
import dev.microrunner.github.InvalidCredentialsException;
import dev.microrunner.handshake.HandshakeException;
import dev.microrunner.handshake.HandshakeFile;
import dev.microrunner.handshake.HostLoopDirectory;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.loop.LoopEvent.Kind;
import dev.microrunner.loop.internal.Registrar;
import dev.microrunner.loop.internal.Registrar.Registration;
import dev.microrunner.vm.EnvironmentMount;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

  /** How long a VM gets to end after a forced stop starts (signal, then kill). */
  private static final Duration FORCED_STOP_GRACE = Duration.ofSeconds(2);

  /** Why a loop ended. */
  public enum EndReason {
    /** It created the runners it was asked for ({@code -r}). */
    COMPLETED,
    /** A VM's agent wrote the secret into {@code .brk}. */
    BREAK,
    /** Its lifetime ({@code -k}) ran out. */
    LIFETIME,
    /** It was asked to stop (signal, orchestrator shutdown). */
    STOPPED,
    /** GitHub refused the credentials or the scope. */
    AUTHENTICATION_FAILED,
    /** Something else made it give up. */
    FAILED
  }

  /**
   * How a loop ended.
   *
   * @param runners how many runners registered during the loop
   * @param failure what ended it, for {@link EndReason#AUTHENTICATION_FAILED} and {@link
   *     EndReason#FAILED}
   */
  public record Outcome(int loop, EndReason reason, int runners, Optional<Exception> failure) {}

  private final int loop;
  private final RunnerConfig config;
  private final HostLoopDirectory directory;
  private final MicroVmRuntime runtime;
  private final Registrar registrar;
  private final LoopSecret secret;
  private final String vmPrefix;
  private final String guestUser;
  private final LoopListener listener;
  private final ExecutorService background;
  private final CountDownLatch stopSignal = new CountDownLatch(1);
  private final List<CompletableFuture<Void>> removals = new ArrayList<>();
  private final Deque<CompletableFuture<Registration>> prepared = new ArrayDeque<>();
  private int prefetchDepth = 1;
  private volatile boolean stopRequested;
  private volatile boolean skipGrace;
  private volatile EndReason stopReason = EndReason.STOPPED;
  private long deadlineNanos = Long.MAX_VALUE;
  private int registeredRunners;
  private int failuresInARow;

  RunnerLoop(
      int loop,
      RunnerConfig config,
      HostLoopDirectory directory,
      MicroVmRuntime runtime,
      Registrar registrar,
      LoopSecret secret,
      String vmPrefix,
      String guestUser,
      LoopListener listener,
      ExecutorService background) {
    this.loop = loop;
    this.config = config;
    this.directory = directory;
    this.runtime = runtime;
    this.registrar = registrar;
    this.secret = secret;
    this.vmPrefix = vmPrefix;
    this.guestUser = guestUser;
    this.listener = listener;
    this.background = background;
  }

  public int loop() {
    return loop;
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

  /** Runs the loop on the calling thread until it ends. Never throws. */
  public Outcome run() {
    emit(LoopEvent.of(Kind.LOOP_STARTED, loop, null, ""));
    config
        .lifetime()
        .ifPresent(l -> deadlineNanos = System.nanoTime() + l.toNanos() /* -k counts from here */);
    Outcome outcome;
    try {
      while (true) {
        Optional<EndReason> end = endReason();
        if (end.isPresent()) {
          outcome = new Outcome(loop, end.get(), registeredRunners, Optional.empty());
          break;
        }
        Registration registration;
        try {
          registration = nextRegistration();
        } catch (GitHubException e) {
          if (isFatal(e)) {
            LOG.error("Loop {}: GitHub refused the registration: {}", loop, e.getMessage());
            outcome =
                new Outcome(
                    loop, EndReason.AUTHENTICATION_FAILED, registeredRunners, Optional.of(e));
            break;
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
          LOG.info(
              "Loop {}: break file of {} holds the secret, ending the loop", loop, iteration.id);
          outcome = new Outcome(loop, EndReason.BREAK, registeredRunners, Optional.empty());
          break;
        }
        if (iteration.failure != null && !stopRequested && !lifetimeExpired()) {
          backOff(iteration.failure);
        } else if (iteration.registered) {
          failuresInARow = 0;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      outcome = new Outcome(loop, EndReason.STOPPED, registeredRunners, Optional.empty());
    } catch (IOException | RuntimeException e) {
      LOG.error("Loop {} failed: {}", loop, e.getMessage(), e);
      outcome = new Outcome(loop, EndReason.FAILED, registeredRunners, Optional.of(e));
    }
    prepared.forEach(this::discard);
    prepared.clear();
    awaitRemovals();
    emit(LoopEvent.of(Kind.LOOP_ENDED, loop, null, outcome.reason().name()));
    return outcome;
  }

  private Optional<EndReason> endReason() {
    if (stopRequested) {
      return Optional.of(stopReason);
    }
    if (lifetimeExpired()) {
      return Optional.of(EndReason.LIFETIME);
    }
    if (config.repeat() >= 0 && registeredRunners >= config.repeat()) {
      return Optional.of(EndReason.COMPLETED);
    }
    return Optional.empty();
  }

  private boolean lifetimeExpired() {
    return System.nanoTime() - deadlineNanos >= 0;
  }

  /**
   * Keeps up to {@link #prefetchDepth} registrations in preparation, fetched concurrently, so that
   * the next VM never waits behind GitHub. Called right after a VM started.
   */
  private void prepareAhead() {
    while (prepared.size() < prefetchDepth
        && !stopRequested
        && !lifetimeExpired()
        && (config.repeat() < 0 || registeredRunners + 1 + prepared.size() < config.repeat())) {
      prepared.add(registerInBackground());
    }
  }

  /**
   * The next prepared registration, else a fresh one. The depth adapts: it grows when the loop had
   * to wait for GitHub (VMs shorter than a registration call), and shrinks back when registrations
   * sit ready (VMs longer), so slow jobs hold only one spare registration.
   */
  private Registration nextRegistration()
      throws GitHubException, IOException, InterruptedException {
    CompletableFuture<Registration> next = prepared.poll();
    if (next == null) {
      return registerNow();
    }
    if (!next.isDone()) {
      prefetchDepth = Math.min(prefetchDepth + 1, config.prefetch());
    } else if (prefetchDepth > 1 && !prepared.isEmpty() && prepared.peek().isDone()) {
      prefetchDepth--;
    }
    return await(next);
  }

  private static boolean isFatal(GitHubException e) {
    return e instanceof GitHubAuthenticationException
        || e instanceof GitHubPermissionException
        || e instanceof GitHubNotFoundException
        || e instanceof GitHubValidationException
        || e instanceof InvalidCredentialsException;
  }

  private Registration registerNow() throws GitHubException, IOException {
    Registration registration = registrar.register(RunnerId.random(loop), secret, guestUser);
    emit(LoopEvent.of(Kind.RUNNER_CREATED, loop, registration.id(), registration.name()));
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
    failuresInARow++;
    Duration delay = config.backoff().delay(failuresInARow);
    // The reason quotes GitHub's and the guest's messages; event details promise no secret.
    String reason = Redaction.redact(why);
    LOG.warn(
        "Loop {}: {}; trying again in {} ms (failure {} in a row)",
        loop,
        reason,
        delay.toMillis(),
        failuresInARow);
    emit(LoopEvent.of(Kind.BACKING_OFF, loop, null, delay.toMillis() + " ms: " + reason));
    stopSignal.await(delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Off the critical path: removes the VM (idempotent) and the registration if still there. */
  private void removeInBackground(Registration registration, Optional<String> vmName) {
    removals.removeIf(CompletableFuture::isDone); // a loop may run for months
    removals.add(
        CompletableFuture.runAsync(() -> removeRegistration(registration, vmName), background));
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
      emit(
          LoopEvent.of(
              Kind.REGISTRATION_REMOVED,
              loop,
              registration.id(),
              removed ? "removed by the host" : "already gone"));
    } catch (GitHubException | IOException e) {
      LOG.warn(
          "Loop {}: could not remove the registration of {}: {}",
          loop,
          registration.name(),
          e.getMessage());
    } finally {
      Registrar.forgetSecret(registration);
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
      LOG.warn("Loop listener failed on {}: {}", event.kind(), e.toString());
    }
  }

  private List<String> agentArguments(RunnerId id) {
    List<String> args = new ArrayList<>(config.entrypointArguments());
    args.addAll(
        List.of(
            "-E",
            EnvironmentMount.guestPath(id.fileName(HandshakeFile.ENV)),
            "-k",
            EnvironmentMount.guestPath(id.fileName(HandshakeFile.TOKEN))));
    return args;
  }

  private VmSpec spec(RunnerId id) {
    VmSpec.Builder spec =
        VmSpec.builder()
            .name(vmPrefix + "-" + id)
            .image(config.image())
            .cpus(config.cpus())
            .memoryMib(config.memoryMib())
            .dns(config.dns())
            .mount(EnvironmentMount.of(directory.path()))
            .entrypoint(config.effectiveEntrypoint())
            .args(agentArguments(id))
            .environment(config.guestEnvironment());
    config.mounts().forEach(spec::mount);
    if (config.developmentDirectory().isPresent()) {
      Path distribution = config.agentDistribution().orElseThrow(); // checked by RunnerConfig
      spec.mount(new Mount(distribution, config.developmentDirectory().get(), true));
    }
    config.network().ifPresent(spec::network);
    return spec.build();
  }

  /** One runner: its VM from start to end, and the clean-up that must happen before the next. */
  private final class Iteration {
    private final Registration registration;
    private final RunnerId id;
    private boolean registered;
    private boolean breakRequested;
    private String failure;

    Iteration(Registration registration) {
      this.registration = registration;
      this.id = registration.id();
    }

    /** Runs the VM, preparing the next runners' registrations meanwhile. */
    void run() throws IOException, InterruptedException {
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
      emit(LoopEvent.of(Kind.VM_STARTED, loop, id, handle.name()));
      try {
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
        emit(LoopEvent.exited(loop, id, exit));
      } finally {
        if (handle.isRunning()) {
          stopQuietly(handle, Duration.ZERO);
        }
        breakRequested = consumeBreak();
        directory.removeRunnerFiles(id);
        removeInBackground(registration, Optional.of(handle.name()));
      }
    }

    private Optional<Integer> awaitRegistration(VmHandle handle)
        throws IOException, InterruptedException {
      long timeout = System.nanoTime() + config.registrationTimeout().toNanos();
      while (!stopRequested && !lifetimeExpired() && System.nanoTime() - timeout < 0) {
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
      registeredRunners++;
      emit(LoopEvent.of(Kind.REGISTERED, loop, id, registration.name()));
    }

    private Optional<Integer> awaitEnd(VmHandle handle, Optional<Integer> exit)
        throws IOException, InterruptedException {
      while (exit.isEmpty()) {
        if (stopRequested || lifetimeExpired()) {
          return terminate(handle);
        }
        exit = handle.awaitExit(SLICE);
      }
      return exit;
    }

    /** {@code .trm}, the grace period (cut short by a second stop request), a forced stop. */
    private Optional<Integer> terminate(VmHandle handle) throws IOException, InterruptedException {
      if (!skipGrace) {
        LOG.info("Loop {}: asking {} to terminate", loop, id);
        directory.requestTermination(id, secret);
        long graceEnd = System.nanoTime() + config.grace().toNanos();
        while (!skipGrace && System.nanoTime() - graceEnd < 0) {
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
      CONSOLE.info("[{}] {}", id, Redaction.redact(printable(line)));
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
