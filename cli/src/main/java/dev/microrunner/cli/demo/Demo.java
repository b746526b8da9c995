package dev.microrunner.cli.demo;

import dev.microrunner.cli.SimulatedRunnerMain;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimState;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.github.sim.SimulatorOptions;
import dev.microrunner.handshake.RunnerStatus;
import dev.microrunner.loop.Backoff;
import dev.microrunner.loop.Demand;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.Redactor;
import dev.microrunner.loop.RunnerConfig;
import dev.microrunner.loop.RuntimeUnavailableException;
import dev.microrunner.loop.Scaling;
import dev.microrunner.vm.MicroVmRuntime;
import dev.microrunner.vm.MicroVmRuntimes;
import dev.microrunner.vm.Mount;
import dev.microrunner.vm.PullPolicy;
import dev.microrunner.vm.RuntimeOptions;
import dev.microrunner.vm.VmException;
import dev.microrunner.vm.VmOwner;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The embedded default: the GitHub simulator, a batch of jobs, and a real orchestrator whose
 * ephemeral runners (the real agent and a simulated actions/runner) take them one each. Prints
 * progress, then a table per runner and a last line that says how it went.
 */
public final class Demo {

  /** The one line shown when the demo falls back to the process runtime. */
  public static final String PROCESS_BANNER =
      "demo: no microVM runtime found (install podman + krun or krunvm); using the process"
          + " runtime: no isolation, for demonstration only";

  static final String PRINCIPAL = "demo/hello";
  static final List<String> LABELS = List.of("self-hosted", "microrunner-demo");
  private static final String GUEST_ROOT = "/opt/microrunner-demo";

  /** Long enough to see the extra runners wait, short enough to see them go. */
  private static final Duration DEMO_IDLE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * What to run.
   *
   * @param loops runner loops
   * @param jobs jobs to queue; the demo ends when all are done
   * @param runtime {@code auto} or a runtime name
   * @param jobDuration how long each simulated job takes
   * @param timeout how long the demo may take before it gives up
   * @param image the image for VM runtimes (ignored by the process runtime)
   * @param runtimeEnvironment the runtime's settings (e.g. the qemu runtime's {@code --accel})
   * @param max 0 for {@code loops} fixed loops; else the runners follow the queued jobs, as the
   *     simulator's signed webhooks report them: one waits idle, up to {@code max} VMs
   */
  public record Options(
      int loops,
      int jobs,
      String runtime,
      Duration jobDuration,
      Duration timeout,
      String image,
      Map<String, String> runtimeEnvironment,
      int max) {
    public Options(
        int loops, int jobs, String runtime, Duration jobDuration, Duration timeout, String image) {
      this(loops, jobs, runtime, jobDuration, timeout, image, Map.of(), 0);
    }

    public Options {
      if (max < 0) {
        throw new IllegalArgumentException("--max must be at least 1, not " + max);
      }
      runtimeEnvironment = Map.copyOf(runtimeEnvironment);
      if (loops < 1) {
        throw new IllegalArgumentException("-n/--loops must be at least 1, not " + loops);
      }
      if (jobs < 1) {
        throw new IllegalArgumentException("--jobs must be at least 1, not " + jobs);
      }
      Objects.requireNonNull(runtime, "runtime");
      if (!runtime.equals(OrchestratorConfig.AUTO_RUNTIME)
          && !MicroVmRuntimes.names().contains(runtime)) {
        throw new IllegalArgumentException(
            "-R/--runtime: unknown runtime '"
                + runtime
                + "'; valid runtimes: auto, "
                + String.join(", ", MicroVmRuntimes.names()));
      }
      if (jobDuration.isNegative() || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("--job-duration and --timeout must be positive");
      }
    }
  }

  private final Options options;
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean live;
  private final Redactor redactor;
  private final RunnerTracker tracker = new RunnerTracker();
  private final Object lock = new Object();
  private Orchestrator orchestrator;
  private boolean interrupted;
  private volatile boolean allDone;
  private volatile String failure;
  private volatile String lastProgress = "";
  private long lastPrintNanos;

  /**
   * @param live whether to redraw one status line ({@code out} is a terminal) rather than print
   *     periodic lines
   * @param redactor masks the demo's token and the loops' secrets in what it prints
   */
  public Demo(Options options, PrintWriter out, PrintWriter err, boolean live, Redactor redactor) {
    this.options = options;
    this.out = out;
    this.err = err;
    this.live = live;
    this.redactor = redactor;
  }

  /** From a signal handler: ends the demo (the second call skips the grace period). */
  public void interrupt(boolean skipGrace) {
    Orchestrator running;
    synchronized (lock) {
      interrupted = true;
      running = orchestrator;
    }
    if (running != null) {
      running.stop(skipGrace);
    }
  }

  /** Runs the demo; returns 0 when every job was done and nothing was left behind, else 1. */
  public int run() throws Exception {
    long start = System.nanoTime();
    try (WorkDirectory work = WorkDirectory.create("microrunner-demo")) {
      String runtime = chooseRuntime(work.resolve("state"));
      try (GitHubSimulator sim = GitHubSimulator.start(SimulatorOptions.defaults())) {
        String token = SimulatorTokens.generate();
        redactor.add(token);
        sim.acceptToken(token);
        sim.addRepository(PRINCIPAL);
        Path distribution = work.resolve("actions-runner");
        SimulatedRunnerDistribution.write(
            distribution,
            SelfLaunch.java(),
            SelfLaunch.classPath(),
            SimulatedRunnerMain.class.getName());
        RunnerConfig runner = runnerConfig(sim, token, runtime, distribution, work);
        OrchestratorConfig.Builder builder =
            options.max() > 0
                ? OrchestratorConfig.builder(
                    List.of(
                        Pool.scaled(
                            "demo",
                            new Scaling(1, options.max(), DEMO_IDLE_TIMEOUT),
                            Optional.empty(),
                            runner)))
                : OrchestratorConfig.builder(runner).loops(options.loops());
        OrchestratorConfig config =
            builder
                .prefix("demo")
                .runtime(runtime)
                .baseDirectory(Optional.of(work.resolve("loops")))
                .stateDirectory(work.resolve("state"))
                .runtimeEnvironment(options.runtimeEnvironment())
                .build();
        if (options.max() == 0) {
          queueJobs(sim);
          out.printf(
              "demo: GitHub simulator on %s, %d jobs queued, %d runner loop(s) on %s%n",
              sim.apiUrl(), options.jobs(), options.loops(), runtime);
          out.flush();
          return runOrchestrator(config, sim, start, Demand.none());
        }
        // The whole path of a demand-driven pool: the simulator signs a workflow_job webhook per
        // job, the receiver checks it, the pool grows for the queued jobs and shrinks after.
        try (SimulatedWebhooks webhooks = SimulatedWebhooks.connect(sim, redactor)) {
          // After the webhook: GitHub tells a webhook of the jobs queued once it exists.
          queueJobs(sim);
          out.printf(
              "demo: GitHub simulator on %s, %d jobs queued, runners on demand on %s: one idle,"
                  + " up to %d VMs as the simulator's signed webhooks report queued jobs%n",
              sim.apiUrl(), options.jobs(), runtime, options.max());
          out.flush();
          return runOrchestrator(config, sim, start, webhooks.jobs());
        }
      }
    }
  }

  private void queueJobs(GitHubSimulator sim) {
    for (int i = 1; i <= options.jobs(); i++) {
      sim.enqueueJob(new SimJob("job-" + i, LABELS, options.jobDuration()));
    }
  }

  private int runOrchestrator(
      OrchestratorConfig config, GitHubSimulator sim, long start, Demand demand) throws Exception {
    Orchestrator created =
        Orchestrator.builder(config).listener(tracker).redactor(redactor).demand(demand).build();
    synchronized (lock) {
      orchestrator = created;
      if (interrupted) {
        return interruptedStatus();
      }
    }
    ScheduledExecutorService ticker =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "demo-progress");
              thread.setDaemon(true);
              return thread;
            });
    // Ended by the shutdown below; a failing tick is the tick's to report.
    var unused =
        ticker.scheduleWithFixedDelay(
            () -> tick(sim, created, start), 0, live ? 200 : 100, TimeUnit.MILLISECONDS);
    Orchestrator.Result result;
    try {
      result = created.run();
    } catch (RuntimeUnavailableException e) {
      if (config.runtime().equals("process")) {
        throw e;
      }
      throw new RuntimeUnavailableException(
          e.getMessage()
              + "\nThe demo on "
              + config.runtime()
              + " boots the runner image "
              + options.image()
              + ": build one with `microrunner image build` and pass it with -i, or run the demo"
              + " without isolation: microrunner demo -R process",
          e);
    } finally {
      ticker.shutdownNow();
      ticker.awaitTermination(5, TimeUnit.SECONDS);
    }
    printProgress(progressLine(sim.state(), start), true);
    synchronized (lock) {
      if (interrupted) {
        return interruptedStatus();
      }
    }
    return report(result, sim.state());
  }

  private int interruptedStatus() {
    err.println("demo: interrupted; every runner and VM was stopped and removed");
    err.flush();
    return 130;
  }

  /** Watches the simulator: stops the orchestrator once every job is done, or on time-out. */
  private void tick(GitHubSimulator sim, Orchestrator running, long start) {
    try {
      SimState state = sim.state();
      if (!allDone && failure == null) {
        if (state.finishedJobs() >= options.jobs()) {
          allDone = true;
          running.stop(false);
        } else if (System.nanoTime() - start > options.timeout().toNanos()) {
          failure =
              "timed out after "
                  + options.timeout().toSeconds()
                  + " s with "
                  + state.finishedJobs()
                  + "/"
                  + options.jobs()
                  + " jobs done"
                  + backOffNote();
          running.stop(true);
        }
      }
      printProgress(progressLine(state, start), false);
    } catch (RuntimeException e) {
      failure = "progress check failed: " + e;
      running.stop(true);
    }
  }

  private String progressLine(SimState state, long start) {
    return String.format(
        Locale.ROOT,
        "demo: %d/%d jobs done | runners started %d, active %d (starting %d, idle %d, busy %d,"
            + " stopping %d) | %.1f s",
        state.finishedJobs(),
        options.jobs(),
        tracker.vmsStarted(),
        tracker.vmsRunning(),
        tracker.inState(RunnerStatus.State.STARTING),
        tracker.inState(RunnerStatus.State.IDLE),
        tracker.inState(RunnerStatus.State.BUSY),
        tracker.inState(RunnerStatus.State.STOPPING),
        (System.nanoTime() - start) / 1e9);
  }

  private synchronized void printProgress(String line, boolean last) {
    String withoutTime = line.substring(0, line.lastIndexOf('|'));
    boolean changed = !withoutTime.equals(lastProgress);
    if (live) {
      out.print("\r\033[K" + line + (last ? "\n" : ""));
      out.flush();
    } else if ((changed && System.nanoTime() - lastPrintNanos >= 2_000_000_000L) || last) {
      out.println(line);
      out.flush();
      lastPrintNanos = System.nanoTime();
    } else {
      return;
    }
    lastProgress = withoutTime;
  }

  private int report(Orchestrator.Result result, SimState state) {
    List<String> problems = new ArrayList<>();
    if (failure != null) {
      problems.add(failure);
    }
    result
        .refusal()
        .or(result::failure)
        .ifPresent(
            o ->
                problems.add(
                    "loop "
                        + o.loop()
                        + " ended with "
                        + o.reason()
                        + ": "
                        + o.failure().map(Throwable::getMessage).orElse("no details")));
    long succeeded =
        state.jobs().stream().filter(j -> j.result().equals(Optional.of("Succeeded"))).count();
    if (succeeded != options.jobs()) {
      problems.add(succeeded + " of " + options.jobs() + " jobs succeeded");
    }
    if (!state.runners().isEmpty()) {
      problems.add(
          "registrations left at the simulator: "
              + state.runners().stream().map(SimState.RunnerState::name).toList());
    }
    if (!problems.isEmpty()) {
      // The problems quote loop failures and back-off reasons verbatim, past the log's masking.
      err.println(redactor.redact("demo: failed: " + String.join("; ", problems)));
      err.flush();
      return 1;
    }
    RunnerTable table = RunnerTable.of(tracker.started(), state.jobs());
    table.print(out);
    out.printf(
        "demo: %d/%d jobs completed by %d ephemeral runners%n",
        succeeded, options.jobs(), table.runnersWithJobs());
    out.flush();
    return 0;
  }

  private String backOffNote() {
    List<String> backOffs = tracker.backOffs();
    return backOffs.isEmpty() ? "" : "; last failure: " + backOffs.get(backOffs.size() - 1);
  }

  /** The runtime name: the one asked for, or the best microVM runtime, or process with a banner. */
  private String chooseRuntime(Path stateDirectory) throws RuntimeUnavailableException {
    if (!options.runtime().equals(OrchestratorConfig.AUTO_RUNTIME)) {
      return options.runtime();
    }
    RuntimeOptions runtimeOptions =
        RuntimeOptions.builder(VmOwner.forThisProcess("demo"), stateDirectory.resolve("vm"))
            .build();
    try (MicroVmRuntime detected = MicroVmRuntimes.detect(runtimeOptions)) {
      return detected.name();
    } catch (VmException e) {
      out.println(PROCESS_BANNER);
      out.flush();
      return "process";
    }
  }

  private RunnerConfig runnerConfig(
      GitHubSimulator sim, String token, String runtime, Path distribution, WorkDirectory work)
      throws Exception {
    RunnerConfig.Builder runner =
        RunnerConfig.builder()
            .target(GitHubTarget.of(sim.apiUrl().toString()))
            .scope(RunnerScope.of("repo", PRINCIPAL))
            .credentials(Credentials.pat(Secret.of(token)))
            .labels(LABELS)
            .namePrefix("demo")
            .repeat(-1)
            .grace(Duration.ofSeconds(10))
            .registrationTimeout(Duration.ofSeconds(60))
            .backoff(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(2)));
    if (runtime.equals("process")) {
      Path java =
          SelfLaunch.writeScript(
              work.resolve("java"),
              "exec "
                  + SelfLaunch.shellQuote(SelfLaunch.java())
                  + " "
                  + String.join(" ", SelfLaunch.SMALL_JVM_FLAGS)
                  + " \"$@\"");
      String agent = SelfLaunch.writeLauncher(work.resolve("agent"), "agent").toString();
      return runner
          .vm(
              vm ->
                  vm.entrypoint(agent)
                      .args()
                      .environment(
                          Map.of(
                              "RUNNER_INSTALL",
                              distribution.toString(),
                              SimulatedRunnerDistribution.JAVA_ENV,
                              java.toString())))
          .build();
    }
    if (runtime.equals("qemu") && options.image().equals(RunnerConfig.DEFAULT_IMAGE)) {
      return onHostJava(runner, sim, distribution, work);
    }
    // A VM runs the image's agent; the simulated runner and this jar are mounted read-only.
    Path jar = Path.of(SelfLaunch.classPath());
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "the demo on runtime " + runtime + " needs the built jar: run it with java -jar");
    }
    return runner
        .vm(
            vm ->
                vm.image(options.image())
                    .mount(new Mount(distribution, GUEST_ROOT + "/actions-runner", true))
                    .mount(new Mount(jar.getParent(), GUEST_ROOT + "/lib", true))
                    .environment(
                        Map.of(
                            "RUNNER_INSTALL",
                            GUEST_ROOT + "/actions-runner",
                            SimulatedRunnerDistribution.CLASSPATH_ENV,
                            GUEST_ROOT + "/lib/" + jar.getFileName(),
                            SimulatedRunnerDistribution.JAVA_ENV,
                            "/opt/microrunner/jre/bin/java"))
                    .network("host"))
        .build();
  }

  /**
   * qemu without the published runner image: a minimal image with the libraries of this host's Java
   * runtime, which is shared read-only with the VM together with this jar (the agent) and the
   * simulated runner; the VM reaches the simulator's port on the host's loopback and nothing else
   * there.
   */
  private RunnerConfig onHostJava(
      RunnerConfig.Builder runner, GitHubSimulator sim, Path distribution, WorkDirectory work)
      throws Exception {
    Path jar = Path.of(SelfLaunch.classPath());
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "the demo on runtime qemu needs the built jar: run it with java -jar");
    }
    String image = HostJavaImage.build(work.resolve("host-java-image"), Map.of());
    Path javaHome = HostJavaImage.javaHome();
    List<Mount> mounts = HostJavaImage.javaMounts();
    return runner
        .pull(PullPolicy.NEVER)
        .user("root")
        .agentFromHost(jar.getParent(), GUEST_ROOT + "/lib")
        .vm(
            vm -> {
              vm.image(image)
                  .cpus(1)
                  .memoryMib(1024)
                  .network("restricted:" + sim.apiUrl().getPort())
                  .mount(new Mount(distribution, GUEST_ROOT + "/actions-runner", true))
                  .environment(
                      Map.of(
                          "RUNNER_INSTALL",
                          GUEST_ROOT + "/actions-runner",
                          SimulatedRunnerDistribution.CLASSPATH_ENV,
                          GUEST_ROOT + "/lib/" + jar.getFileName(),
                          SimulatedRunnerDistribution.JAVA_ENV,
                          javaHome.resolve("bin/java").toString()));
              mounts.forEach(vm::mount);
            })
        .build();
  }
}
