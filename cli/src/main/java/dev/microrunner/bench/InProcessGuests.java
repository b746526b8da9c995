package dev.microrunner.bench;

import dev.microrunner.github.sim.SimulatedRunner;
import dev.microrunner.handshake.EnvFile;
import dev.microrunner.handshake.GuestHandshake;
import dev.microrunner.handshake.LoopSecret;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.handshake.TerminationWatch;
import dev.microrunner.loop.internal.ListenerOutput;
import dev.microrunner.vm.Availability;
import dev.microrunner.vm.ConsoleListener;
import dev.microrunner.vm.EnvironmentMount;
import dev.microrunner.vm.Isolation;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmHandle;
import dev.microrunner.vm.VmInfo;
import dev.microrunner.vm.VmOwner;
import dev.microrunner.vm.VmSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.commons.io.file.PathUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "Instant guests": a VM runtime whose VMs are threads of this JVM running the guest side of the
 * handshake and the simulated actions/runner listener. Everything else is real (the loops, their
 * handshake files, the simulator's HTTP API and webhooks); only the process boundaries are gone,
 * because an agent JVM and a listener JVM per VM cost seconds of CPU each and would swamp what a
 * burst measures on a small host.
 *
 * <p>Each guest does what {@link dev.microrunner.loop.Agent} does for a JIT runner: it consumes
 * {@code <id>.env}, publishes {@code <id>.sta} as {@link ListenerOutput} reads the listener's
 * lines, {@code <id>.tkn} once the listener listens for jobs, and on a valid {@code <id>.trm} runs
 * the stop action the listener registered, as a SIGTERM would.
 */
final class InProcessGuests implements MicroVmRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(InProcessGuests.class);

  /** How often a guest looks for {@code .trm}; the agent's default is 200 ms. */
  private static final Duration TERMINATION_POLL = Duration.ofMillis(50);

  private final VmOwner owner = VmOwner.forThisProcess("bench");
  private final Path roots;
  private final Map<String, Guest> guests = new ConcurrentHashMap<>();

  /**
   * @param roots where each guest's runner root (its own directory) is made and removed
   */
  InProcessGuests(Path roots) {
    this.roots = roots;
  }

  @Override
  public String name() {
    return "in-process";
  }

  @Override
  public Isolation isolation() {
    return Isolation.NONE;
  }

  @Override
  public Availability availability() {
    return Availability.available("threads of this JVM");
  }

  @Override
  public void pull(String image, PullPolicy policy) {
    // Nothing to fetch: the guest is code of this JVM.
  }

  @Override
  public VmHandle start(VmSpec spec, ConsoleListener console) throws VmException {
    Path envFile = hostPath(spec, argument(spec, "-E"));
    Path root = roots.resolve(spec.name());
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new VmException("cannot create the runner root of " + spec.name(), e);
    }
    Guest guest = new Guest(spec.name(), envFile, root, console);
    guests.put(spec.name(), guest);
    Thread thread = new Thread(guest::run, "bench-guest-" + spec.name());
    thread.setDaemon(true);
    thread.start();
    return guest;
  }

  private static String argument(VmSpec spec, String option) throws VmException {
    int index = spec.args().indexOf(option);
    if (index < 0 || index + 1 >= spec.args().size()) {
      throw new VmException(spec.name() + " has no " + option + " argument");
    }
    return spec.args().get(index + 1);
  }

  /** The host file behind a guest path of the {@code /_environment} mount. */
  private static Path hostPath(VmSpec spec, String guestPath) throws VmException {
    String prefix = EnvironmentMount.GUEST_PATH + "/";
    for (Mount mount : spec.mounts()) {
      if (mount.guestPath().equals(EnvironmentMount.GUEST_PATH) && guestPath.startsWith(prefix)) {
        return mount.hostPath().resolve(guestPath.substring(prefix.length()));
      }
    }
    throw new VmException(spec.name() + " does not mount " + EnvironmentMount.GUEST_PATH);
  }

  @Override
  public List<VmInfo> list() {
    return guests.values().stream()
        .map(g -> new VmInfo(g.name, owner, g.isRunning() ? "running" : "exited"))
        .toList();
  }

  @Override
  public List<VmInfo> listOrphans() {
    // Guests die with this JVM: nothing can be left by another instance.
    return List.of();
  }

  @Override
  public void delete(String vmName) throws VmException {
    Guest guest = guests.remove(vmName);
    if (guest != null) {
      guest.stop(Duration.ofSeconds(10));
    }
  }

  @Override
  public void close() {
    for (String name : List.copyOf(guests.keySet())) {
      try {
        delete(name);
      } catch (VmException e) {
        LOG.warn("Could not stop guest {}: {}", name, e.getMessage());
      }
    }
  }

  /** One guest: the agent's part and the listener, on one thread. */
  private static final class Guest implements VmHandle {
    private final String name;
    private final Path envFile;
    private final Path root;
    private final ConsoleListener console;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final ListenerOutput output = new ListenerOutput();
    private final Object lock = new Object();

    /** Set by the guest's thread once it read its env file; read by whoever stops it. */
    private volatile GuestHandshake handshake;

    private boolean registrationPublished;
    private boolean stopping;
    private boolean terminatedByHost;
    private Runnable stopListener;
    private Thread thread;

    Guest(String name, Path envFile, Path root, ConsoleListener console) {
      this.name = name;
      this.envFile = envFile;
      this.root = root;
      this.console = console;
    }

    void run() {
      synchronized (lock) {
        thread = Thread.currentThread();
      }
      int status;
      try {
        status = guest();
      } catch (IOException | RuntimeException e) {
        console.line(name, "in-process guest failed: " + e);
        status = 1;
      }
      try {
        PathUtils.deleteDirectory(root);
      } catch (IOException e) {
        LOG.warn("Could not remove {}: {}", root, e.getMessage());
      }
      exit.complete(status);
    }

    private int guest() throws IOException {
      handshake = GuestHandshake.forEnvFile(envFile);
      Map<String, String> values = handshake.consumeEnv();
      LoopSecret secret = LoopSecret.of(values.get(EnvFile.RUNNER_SECRET));
      String jitConfig = values.get(EnvFile.RUNNER_JITCONFIG);
      if (jitConfig == null) {
        throw new IOException(envFile.getFileName() + " holds no JIT config");
      }
      publish(output.status());
      TerminationWatch watch =
          handshake.watchTermination(secret, TERMINATION_POLL, this::terminatedByHost);
      try {
        int status =
            SimulatedRunner.execute(
                new String[] {"run", "--root", root.toString()},
                Map.of(
                    "ACTIONS_RUNNER_INPUT_JITCONFIG",
                    jitConfig,
                    "ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT",
                    "1"),
                lines(this::onLine),
                lines(line -> console.line(name, line)),
                this::listenerStarted);
        boolean asked;
        synchronized (lock) {
          asked = stopping;
        }
        synchronized (output) {
          publish(output.ended(status, asked));
        }
        synchronized (lock) {
          return terminatedByHost ? 0 : status;
        }
      } finally {
        watch.close();
      }
    }

    /** The listener hands over what a SIGTERM would run; a stop asked for earlier runs now. */
    private void listenerStarted(Runnable onTermination) {
      boolean stopNow;
      synchronized (lock) {
        stopListener = onTermination;
        stopNow = stopping;
      }
      if (stopNow) {
        onTermination.run();
      }
    }

    private void onLine(String line) {
      console.line(name, line);
      synchronized (output) {
        boolean changed = output.accept(line);
        if (output.listening() && !registrationPublished) {
          registrationPublished = true;
          try {
            handshake.publishRegistration("runner " + name + " registered\n");
          } catch (IOException e) {
            LOG.warn("Could not publish the registration of {}: {}", name, e.getMessage());
          }
        }
        if (changed) {
          publish(output.status());
        }
      }
    }

    private void publish(RunnerStatus status) {
      try {
        handshake.publishStatus(status);
      } catch (IOException | IllegalArgumentException e) {
        LOG.warn("Could not publish the status of {}: {}", name, e.getMessage());
      }
    }

    private void terminatedByHost() {
      synchronized (lock) {
        terminatedByHost = true;
      }
      requestStop();
    }

    private void requestStop() {
      Runnable action;
      synchronized (lock) {
        if (stopping) {
          return;
        }
        stopping = true;
        action = stopListener;
      }
      if (handshake != null) {
        synchronized (output) {
          publish(output.stopping());
        }
      }
      if (action != null) {
        action.run();
      }
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
      try {
        return Optional.of(exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS));
      } catch (TimeoutException e) {
        return Optional.empty();
      } catch (ExecutionException e) {
        throw new IllegalStateException("a guest's exit never fails", e);
      }
    }

    @Override
    public Optional<Integer> exitStatus() {
      return Optional.ofNullable(exit.getNow(null));
    }

    /** As SIGTERM then SIGKILL: the listener's stop action, then an interrupt after the grace. */
    @Override
    public void stop(Duration grace) throws VmException {
      // Before the listener started, it runs the stop action as soon as it hands it over.
      requestStop();
      try {
        if (awaitExit(grace).isEmpty()) {
          Thread running;
          synchronized (lock) {
            running = thread;
          }
          if (running != null) {
            running.interrupt();
          }
          if (awaitExit(Duration.ofSeconds(10)).isEmpty()) {
            throw new VmException("guest " + name + " did not end");
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new VmException("interrupted while stopping guest " + name, e);
      }
    }

    @Override
    public boolean isRunning() {
      return !exit.isDone();
    }
  }

  /** A print stream that hands each complete line, without its terminator, to {@code sink}. */
  private static PrintStream lines(Consumer<String> sink) {
    OutputStream splitter =
        new OutputStream() {
          private final ByteArrayOutputStream line = new ByteArrayOutputStream();

          @Override
          public synchronized void write(int b) {
            if (b == '\n') {
              String text = line.toString(StandardCharsets.UTF_8);
              line.reset();
              sink.accept(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text);
            } else {
              line.write(b);
            }
          }
        };
    return new PrintStream(splitter, true, StandardCharsets.UTF_8);
  }
}
