package dev.microrunner.bench;

import dev.microrunner.cli.demo.SimulatedWebhooks;
import dev.microrunner.cli.demo.SimulatorTokens;
import dev.microrunner.cli.demo.WorkDirectory;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.github.sim.SimulatorOptions;
import dev.microrunner.handshake.RunnerId;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.Backoff;
import dev.microrunner.loop.LoopEvent;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.loop.Scaling;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * {@code microrunner bench --burst N}: N jobs queued at once, served once by a fixed pool and once
 * by a demand-driven pool, each against a simulator of its own with {@link InProcessGuests}. For
 * each it measures the jobs' queue wait and the VM-seconds runners spent registered and idle.
 *
 * <p>The window of the idle VM-seconds runs from the burst (the moment the jobs are queued) to the
 * last job's end plus {@link Options#settle()}: both sides are charged for the same span of their
 * own burst, including the idle runners a pool keeps once the work is done. Idle time before the
 * burst (the warm pools waiting) is the same on both sides' terms and left out.
 */
public final class Burst {

  private static final String PRINCIPAL = "bench/burst";
  private static final List<String> LABELS = List.of("self-hosted", "microrunner-bench");

  /** How many loops may be starting at once, on both sides: enough for a burst to fan out. */
  private static final int PARALLEL_START = 8;

  /** How long a side must be in its warm state before the burst. */
  private static final Duration STEADY = Duration.ofSeconds(1);

  /**
   * What to run.
   *
   * @param jobs N, the jobs queued at once
   * @param fixedLoops K, the loops of the fixed pool
   * @param jobTime how long each job runs
   * @param idleTimeout the demand-driven pool's idle timeout (its min-idle is 1, its max N)
   * @param settle how long past the last job's end the window lasts
   */
  public record Options(
      int jobs, int fixedLoops, Duration jobTime, Duration idleTimeout, Duration settle) {
    public Options {
      if (jobs < 1 || fixedLoops < 1) {
        throw new IllegalArgumentException("--burst and --burst-fixed-loops must be at least 1");
      }
      if (jobTime.isNegative() || idleTimeout.isNegative() || idleTimeout.isZero()) {
        throw new IllegalArgumentException(
            "--burst-job-seconds must not be negative, --burst-idle-timeout must be positive");
      }
      if (settle.isNegative()) {
        throw new IllegalArgumentException("--burst-settle must not be negative");
      }
    }

    Scaling scaling() {
      return new Scaling(1, jobs, idleTimeout);
    }
  }

  /**
   * One pool's figures.
   *
   * @param pool how the pool was sized, for people
   * @param jobsRun jobs that ran to their end
   * @param waits each job's queue wait (queued to started), in nanoseconds
   * @param idleVmSeconds VM-seconds of registered, idle runners within the window
   * @param vmsStarted VMs started within the window
   */
  public record Side(
      String pool, int jobsRun, List<Long> waits, double idleVmSeconds, int vmsStarted) {
    public Side {
      waits = List.copyOf(waits);
    }

    double waitSeconds(int percent) {
      return waits.isEmpty() ? Double.NaN : Bench.percentile(waits, percent) / 1e9;
    }
  }

  /** Both sides of one burst. */
  public record Result(Options options, Side fixed, Side autoscaled) {

    /** Every job ran on both sides. */
    public boolean complete() {
      return fixed.jobsRun == options.jobs && autoscaled.jobsRun == options.jobs;
    }

    /** The target: a third of the fixed pool's p95 wait at most, fewer idle VM-seconds. */
    public boolean targetMet() {
      return complete()
          && autoscaled.waitSeconds(95) <= fixed.waitSeconds(95) / 3
          && autoscaled.idleVmSeconds < fixed.idleVmSeconds;
    }

    /** The contract's last line, which scripts read. */
    public String summary() {
      return String.format(
          Locale.ROOT,
          "burst %d: fixed %d loops p95 wait %.1f s, autoscaled p95 wait %.1f s; idle VM-seconds"
              + " %.1f vs %.1f",
          options.jobs,
          options.fixedLoops,
          fixed.waitSeconds(95),
          autoscaled.waitSeconds(95),
          fixed.idleVmSeconds,
          autoscaled.idleVmSeconds);
    }

    /** Both sides side by side, how they were measured, and the summary as the last line. */
    public void print(PrintWriter out) {
      out.printf(
          Locale.ROOT,
          "burst of %d jobs of %.1f s, queued at once; window: the burst to the last job's end +"
              + " %d s%n",
          options.jobs,
          options.jobTime.toMillis() / 1e3,
          options.settle.toSeconds());
      String format = "%-22s | %-18s | %s%n";
      out.printf(Locale.ROOT, format, "", fixed.pool, autoscaled.pool);
      out.printf(
          Locale.ROOT,
          format,
          "jobs run",
          fixed.jobsRun + "/" + options.jobs,
          autoscaled.jobsRun + "/" + options.jobs);
      for (int percent : new int[] {50, 95, 100}) {
        out.printf(
            Locale.ROOT,
            format,
            percent == 100 ? "queue wait max" : "queue wait p" + percent,
            String.format(Locale.ROOT, "%.1f s", fixed.waitSeconds(percent)),
            String.format(Locale.ROOT, "%.1f s", autoscaled.waitSeconds(percent)));
      }
      out.printf(
          Locale.ROOT,
          format,
          "idle VM-seconds",
          String.format(Locale.ROOT, "%.1f", fixed.idleVmSeconds),
          String.format(Locale.ROOT, "%.1f", autoscaled.idleVmSeconds));
      out.printf(
          Locale.ROOT, format, "VMs started in window", fixed.vmsStarted, autoscaled.vmsStarted);
      out.println(
          "queue wait: the simulator's queued to started, per job (nearest-rank percentiles);"
              + " idle VM-seconds: each runner's time from a change to idle to its next state or"
              + " its VM's exit, clipped to the window; in-process guests.");
      out.println(
          "target (autoscaled p95 wait <= 1/3 of the fixed pool's, fewer idle VM-seconds): "
              + (targetMet() ? "met" : "NOT met"));
      out.println(summary());
      out.flush();
    }
  }

  private final Options options;
  private final PrintWriter log;
  private final Redactor redactor;

  /**
   * @param log gets one line per step, for the person waiting
   * @param redactor masks the simulators' tokens in the loops' logs
   */
  public Burst(Options options, PrintWriter log, Redactor redactor) {
    this.options = options;
    this.log = log;
    this.redactor = redactor;
  }

  /** Runs the burst against the fixed pool, then against the demand-driven one. */
  public Result run() throws Exception {
    try (WorkDirectory work = WorkDirectory.create("microrunner-burst")) {
      Scaling scaling = options.scaling();
      Side fixed =
          side(
              work,
              "fixed",
              String.format(Locale.ROOT, "fixed %d loops", options.fixedLoops),
              runner -> Pool.of("fixed", options.fixedLoops, runner),
              options.fixedLoops);
      Side autoscaled =
          side(
              work,
              "autoscaled",
              String.format(
                  Locale.ROOT,
                  "autoscaled (min-idle %d, max %d, idle-timeout %d s)",
                  scaling.minIdle(),
                  scaling.max(),
                  scaling.idleTimeout().toSeconds()),
              runner -> Pool.scaled("autoscaled", scaling, Optional.empty(), runner),
              scaling.minIdle());
      return new Result(options, fixed, autoscaled);
    }
  }

  private Side side(
      WorkDirectory work,
      String name,
      String description,
      Function<RunnerConfig, Pool> poolOf,
      int warm)
      throws Exception {
    step("%s: warming up %d runner(s)", description, warm);
    String token = SimulatorTokens.generate();
    redactor.add(token);
    try (GitHubSimulator sim = GitHubSimulator.start(SimulatorOptions.defaults());
        // Both sides get the webhooks, so that only the pool differs; a fixed pool ignores them.
        SimulatedWebhooks webhooks = SimulatedWebhooks.connect(sim, redactor);
        InProcessGuests guests = new InProcessGuests(work.resolve(name + "-roots"))) {
      sim.acceptToken(token);
      sim.addRepository(PRINCIPAL);
      Pool pool = poolOf.apply(runner(sim, token));
      Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();
      Orchestrator orchestrator =
          Orchestrator.builder(
                  OrchestratorConfig.builder(List.of(pool))
                      .prefix("burst-" + name)
                      .parallelStart(PARALLEL_START)
                      .baseDirectory(Optional.of(work.resolve(name + "-base")))
                      .stateDirectory(work.resolve(name + "-state"))
                      .build())
              .runtime(guests)
              .listener(events::add)
              .demand(webhooks.jobs())
              .redactor(redactor)
              .build();
      AtomicReference<Exception> failure = new AtomicReference<>();
      Thread thread =
          new Thread(
              () -> {
                try {
                  orchestrator.run();
                } catch (Exception e) {
                  failure.set(e);
                }
              },
              "bench-burst-" + name);
      thread.start();
      Side side;
      try {
        // Steady before the burst: exactly the warm runners, idle, and no VM coming or going for a
        // while, so that the window measures the burst and not the warm-up.
        Steady steady = new Steady(() -> online(sim) == warm && runningVms(events) == warm);
        awaitOrFail(steady, Duration.ofMinutes(2), thread, failure, "the warm runners");
        step("%s: %d jobs of %d ms queued", description, options.jobs, options.jobTime.toMillis());
        Instant burst = Instant.now();
        for (int i = 1; i <= options.jobs; i++) {
          sim.enqueueJob(new SimJob("burst-" + i, LABELS, options.jobTime));
        }
        Duration allowed = options.jobTime.multipliedBy(options.jobs).plus(Duration.ofMinutes(2));
        awaitOrFail(
            () -> sim.state().finishedJobs() >= options.jobs,
            allowed,
            thread,
            failure,
            "the jobs' end");
        List<SimState.JobState> jobs = sim.state().jobs();
        Instant lastEnd =
            jobs.stream()
                .map(j -> j.finishedAt().orElse(burst))
                .max(Comparator.naturalOrder())
                .orElse(burst);
        Instant windowEnd = lastEnd.plus(options.settle);
        step("%s: jobs done; settling for %d s", description, options.settle.toSeconds());
        long left = Duration.between(Instant.now(), windowEnd).toMillis();
        if (left > 0) {
          TimeUnit.MILLISECONDS.sleep(left);
        }
        List<LoopEvent> seen = List.copyOf(events);
        side =
            new Side(
                description,
                (int) jobs.stream().filter(j -> j.finishedAt().isPresent()).count(),
                waits(jobs),
                idleVmSeconds(seen, burst, windowEnd),
                (int)
                    seen.stream()
                        .filter(
                            e -> e instanceof LoopEvent.VmStarted && within(e, burst, windowEnd))
                        .count());
      } finally {
        orchestrator.stop(false);
        thread.join();
      }
      if (failure.get() != null) {
        throw failure.get();
      }
      return side;
    }
  }

  private static RunnerConfig runner(GitHubSimulator sim, String token) {
    return RunnerConfig.builder()
        .target(GitHubTarget.of(sim.apiUrl().toString()))
        .scope(RunnerScope.of("repo", PRINCIPAL))
        .credentials(Credentials.pat(Secret.of(token)))
        .labels(LABELS)
        // Read by no one: the in-process guests run no entrypoint.
        .vm(vm -> vm.entrypoint("in-process").args())
        .grace(Duration.ofSeconds(10))
        .registrationTimeout(Duration.ofSeconds(30))
        .backoff(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)))
        .build();
  }

  /** VMs started and not yet exited, from the loops' events. */
  private static long runningVms(Queue<LoopEvent> events) {
    long running = 0;
    for (LoopEvent event : events) {
      if (event instanceof LoopEvent.VmStarted) {
        running++;
      } else if (event instanceof LoopEvent.VmExited) {
        running--;
      }
    }
    return running;
  }

  /** A condition that holds once it has held without a break for {@link #STEADY}. */
  private static final class Steady implements BooleanSupplier {
    private final BooleanSupplier condition;
    private long since;
    private boolean holding;

    Steady(BooleanSupplier condition) {
      this.condition = condition;
    }

    @Override
    public boolean getAsBoolean() {
      if (!condition.getAsBoolean()) {
        holding = false;
        return false;
      }
      if (!holding) {
        holding = true;
        since = System.nanoTime();
      }
      return System.nanoTime() - since >= STEADY.toNanos();
    }
  }

  private static long online(GitHubSimulator sim) {
    return sim.state().runners().stream().filter(r -> r.status().equals("online")).count();
  }

  private static void awaitOrFail(
      BooleanSupplier condition,
      Duration timeout,
      Thread orchestrator,
      AtomicReference<Exception> failure,
      String what)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (!orchestrator.isAlive()) {
        throw new IOException("the orchestrator ended while waiting for " + what, failure.get());
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("waited " + timeout.toSeconds() + " s for " + what + " in vain");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /** Each job's queue wait in nanoseconds: queued to started, for the jobs that started. */
  static List<Long> waits(List<SimState.JobState> jobs) {
    return jobs.stream()
        .filter(j -> j.startedAt().isPresent())
        .map(j -> Duration.between(j.queuedAt(), j.startedAt().get()).toNanos())
        .toList();
  }

  /**
   * The seconds runners spent idle within {@code [from, to]}: for each runner, from a state change
   * to {@code IDLE} to its next state change or its VM's exit (or {@code to}, when neither came).
   */
  static double idleVmSeconds(List<LoopEvent> events, Instant from, Instant to) {
    Map<RunnerId, Instant> idleSince = new HashMap<>();
    long nanos = 0;
    List<LoopEvent> ordered = new ArrayList<>(events);
    ordered.sort(Comparator.comparingLong(LoopEvent::nanoTime));
    for (LoopEvent event : ordered) {
      RunnerId runner;
      boolean idle;
      if (event instanceof LoopEvent.RunnerStateChanged changed) {
        runner = changed.runner();
        idle = changed.state() == RunnerStatus.State.IDLE;
      } else if (event instanceof LoopEvent.VmExited exited) {
        runner = exited.runner();
        idle = false;
      } else {
        continue;
      }
      Instant since = idleSince.remove(runner);
      if (since != null) {
        nanos += clipped(since, event.time(), from, to);
      }
      if (idle) {
        idleSince.put(runner, event.time());
      }
    }
    for (Instant since : idleSince.values()) {
      nanos += clipped(since, to, from, to);
    }
    return nanos / 1e9;
  }

  /** The nanoseconds of {@code [start, end]} that fall within {@code [from, to]}. */
  private static long clipped(Instant start, Instant end, Instant from, Instant to) {
    Instant a = start.isBefore(from) ? from : start;
    Instant b = end.isAfter(to) ? to : end;
    return a.isBefore(b) ? Duration.between(a, b).toNanos() : 0;
  }

  private static boolean within(LoopEvent event, Instant from, Instant to) {
    return !event.time().isBefore(from) && !event.time().isAfter(to);
  }

  private void step(String format, Object... arguments) {
    log.println("bench: " + String.format(Locale.ROOT, format, arguments));
    log.flush();
  }
}
