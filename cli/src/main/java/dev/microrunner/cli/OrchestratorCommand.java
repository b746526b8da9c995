package dev.microrunner.cli;

import dev.microrunner.cli.fleet.FleetMetrics;
import dev.microrunner.cli.fleet.FleetState;
import dev.microrunner.cli.fleet.StatusServer;
import dev.microrunner.github.DemandReconciler;
import dev.microrunner.github.JobDemand;
import dev.microrunner.github.Secret;
import dev.microrunner.github.WebhookReceiver;
import dev.microrunner.loop.InvalidSettingException;
import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.Pool;
import dev.microrunner.loop.PoolListener;
import dev.microrunner.loop.QueuedJobs;
import dev.microrunner.loop.Redactor;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code microrunner orchestrator [options] [-- runner options]}: N runner loops in this process,
 * or the pools of a configuration file ({@code --config}). The runner options are parsed here,
 * in-process, so that no credential ever goes on an argv.
 */
@Command(
    name = "orchestrator",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    showEndOfOptionsDelimiterInUsageHelp = true,
    description = {
      "Runs N runner loops, each creating one ephemeral runner at a time in a fresh VM, until"
          + " SIGINT or SIGTERM (then every VM, registration and directory is removed and the exit"
          + " status is 0).",
      "Everything after -- is given to each loop: see `microrunner runner -h`.",
      "With --config FILE the loops come from the file's pools; SIGHUP reads it again.",
      "Logging: ORCHESTRATOR_LOG (-l), now: ${env:ORCHESTRATOR_LOG:-stderr};"
          + " ORCHESTRATOR_VERBOSE (-v), now: ${env:ORCHESTRATOR_VERBOSE:-0}.",
    })
public final class OrchestratorCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(OrchestratorCommand.class);

  @Option(
      names = "--config",
      paramLabel = "FILE",
      defaultValue = "${env:ORCHESTRATOR_CONFIG}",
      description =
          "The pools (YAML; see docs/operations.md). Options given here win over the file's"
              + " orchestrator and defaults sections; SIGHUP reloads it. ORCHESTRATOR_CONFIG, now:"
              + " ${env:ORCHESTRATOR_CONFIG:-unset}.")
  Path configFile;

  @Option(
      names = {"-n", "--loops"},
      defaultValue = "${env:ORCHESTRATOR_RUNNERS:-1}",
      description = "Number of runner loops. ORCHESTRATOR_RUNNERS, now: ${DEFAULT-VALUE}.")
  int loops;

  @Option(
      names = {"-p", "--prefix"},
      defaultValue = "${env:ORCHESTRATOR_PREFIX:-GH-runner}",
      description =
          "VM name prefix; crash recovery only touches what a dead instance with this prefix on"
              + " this host left. ORCHESTRATOR_PREFIX, now: ${DEFAULT-VALUE}.")
  String prefix;

  @Option(
      names = {"-I", "--no-isolation"},
      description =
          "One directory shared by all loops, loops started -s seconds apart."
              + " ORCHESTRATOR_ISOLATION=0 does the same; now: ${env:ORCHESTRATOR_ISOLATION:-1}.")
  boolean noIsolation;

  @Option(
      names = {"-s", "--sleep"},
      paramLabel = "SECONDS",
      defaultValue = "${env:ORCHESTRATOR_SLEEP:-30}",
      description =
          "Seconds between loop starts without isolation. ORCHESTRATOR_SLEEP, now:"
              + " ${DEFAULT-VALUE}.")
  long sleep;

  @Option(
      names = {"-R", "--runtime"},
      defaultValue = "${env:ORCHESTRATOR_RUNTIME}",
      description =
          "VM runtime (wins over the loops' -R): auto, podman+krun, krunvm, podman+crun,"
              + " podman+runc, qemu, process. ORCHESTRATOR_RUNTIME, now: ${env:ORCHESTRATOR_RUNTIME:-unset}.")
  String runtime;

  @Option(
      names = "--parallel-start",
      paramLabel = "N",
      defaultValue = "${env:ORCHESTRATOR_PARALLEL_START:-1}",
      description =
          "Loops that may be starting at once; 1: loop i+1 starts once loop i's first runner"
              + " registered. ORCHESTRATOR_PARALLEL_START, now: ${DEFAULT-VALUE}.")
  int parallelStart;

  @Option(
      names = "--start-timeout",
      paramLabel = "SECONDS",
      defaultValue = "${env:ORCHESTRATOR_START_TIMEOUT:-120}",
      description =
          "How long a loop that has not registered holds back the next. ORCHESTRATOR_START_TIMEOUT,"
              + " now: ${DEFAULT-VALUE}.")
  long startTimeout;

  @Option(
      names = "--base-dir",
      paramLabel = "DIR",
      defaultValue = "${env:ORCHESTRATOR_ENVIRONMENT}",
      description =
          "Where the loop directories go (default: a new directory in the temporary directory)."
              + " ORCHESTRATOR_ENVIRONMENT, now: ${env:ORCHESTRATOR_ENVIRONMENT:-unset}.")
  Path baseDirectory;

  @Option(
      names = "--metrics",
      paramLabel = "[HOST:]PORT",
      defaultValue = "${env:ORCHESTRATOR_METRICS}",
      description =
          "Serve Prometheus metrics at http://HOST:PORT/metrics; a bare PORT listens on 127.0.0.1"
              + " only. Default off. ORCHESTRATOR_METRICS, now: ${env:ORCHESTRATOR_METRICS:-unset}.")
  String metrics;

  @Option(
      names = "--webhook",
      paramLabel = "[HOST:]PORT",
      description =
          "Receive GitHub's workflow_job webhooks at http://HOST:PORT/webhook, so that pools with"
              + " min-idle and max (in --config) grow for queued jobs; a bare PORT listens on"
              + " 127.0.0.1 only (put a TLS proxy in front). Needs --webhook-secret-file.")
  String webhook;

  @Option(
      names = "--webhook-secret-file",
      paramLabel = "FILE",
      description =
          "The webhook's secret as set in GitHub (the file's one line); deliveries not signed with"
              + " it are refused.")
  Path webhookSecretFile;

  @Option(
      names = "--poll",
      paramLabel = "SECONDS",
      defaultValue = "30",
      description =
          "How often pools with min-idle and max ask GitHub for their repository's queued jobs, so"
              + " that a lost webhook costs one period at most and a host GitHub cannot reach still"
              + " scales (at least 2; 0: webhooks only; stretched when the rate limit runs low;"
              + " default ${DEFAULT-VALUE}).")
  long pollSeconds;

  @Mixin StateDirectoryOption stateDirectory = new StateDirectoryOption();

  @Mixin QemuOptions qemu = new QemuOptions();

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Parameters(paramLabel = "RUNNER-OPTION", description = "Options of every loop, after --.")
  List<String> runnerArguments = new ArrayList<>();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Map<String, String> environment = System.getenv();
    logging.apply("ORCHESTRATOR", environment);
    Redactor redactor = logging.redactor();
    Optional<FleetFile> file = Optional.empty();
    OrchestratorConfig config;
    String metricsAddress = metrics;
    String webhookAddress = webhook;
    Path webhookSecret = webhookSecretFile;
    long poll = pollSeconds;
    if (configFile != null) {
      for (String option : List.of("--loops", "--no-isolation", "--sleep")) {
        if (given(option)) {
          throw new InvalidSettingException(
              option.substring(2), "does not go with --config: each pool has its own loops");
        }
      }
      file = Optional.of(new FleetFile(configFile, environment, redactor, runnerArguments));
      FleetFile.Fleet fleet = file.get().read();
      config = fleetConfig(fleet, environment);
      if (!given("--metrics")) {
        metricsAddress = fleet.string("metrics").orElse(metrics);
      }
      if (!given("--webhook")) {
        webhookAddress = fleet.string("webhook").orElse(webhook);
      }
      if (!given("--webhook-secret-file")) {
        webhookSecret = fleet.string("webhook-secret-file").map(Path::of).orElse(webhookSecretFile);
      }
      if (!given("--poll")) {
        poll = fleet.integer("poll").orElse(pollSeconds);
      }
    } else {
      RunnerCommand runner = new RunnerCommand();
      new CommandLine(runner)
          .setOverwrittenOptionsAllowed(true)
          .parseArgs(runnerArguments.toArray(new String[0]));
      boolean isolation =
          !noIsolation
              && !"0".equals(environment.getOrDefault("ORCHESTRATOR_ISOLATION", "1").trim());
      config =
          OrchestratorConfig.builder(runner.toConfig(environment, redactor))
              .loops(loops)
              .prefix(prefix)
              .isolation(isolation)
              .isolationOffDelay(Duration.ofSeconds(sleep))
              .parallelStart(parallelStart)
              .startTimeout(Duration.ofSeconds(startTimeout))
              .runtime(runtime != null && !runtime.isBlank() ? runtime : runner.runtime)
              .baseDirectory(Optional.ofNullable(baseDirectory))
              .stateDirectory(stateDirectory.resolve(environment))
              .runtimeEnvironment(qemu.runtimeEnvironment(runner.qemu))
              .build();
    }
    Optional<InetSocketAddress> metricsListener =
        metricsAddress == null || metricsAddress.isBlank()
            ? Optional.empty()
            : Optional.of(listenAddress("metrics", metricsAddress));
    Optional<InetSocketAddress> webhookListener =
        webhookAddress == null || webhookAddress.isBlank()
            ? Optional.empty()
            : Optional.of(listenAddress("webhook", webhookAddress));
    if (webhookListener.isPresent() != (webhookSecret != null)) {
      throw webhookListener.isPresent()
          ? new InvalidSettingException(
              "webhook-secret-file",
              "is needed with webhook: deliveries are checked against the webhook's secret")
          : new InvalidSettingException("webhook", "is needed with webhook-secret-file");
    }
    if (poll != 0 && poll < DemandReconciler.Options.MIN_PERIOD.toSeconds()) {
      throw new InvalidSettingException(
          "poll",
          "must be 0 (webhooks only) or at least "
              + DemandReconciler.Options.MIN_PERIOD.toSeconds()
              + " seconds, not "
              + poll);
    }
    Optional<Secret> secret = Optional.empty();
    if (webhookSecret != null) {
      secret = Optional.of(Secret.fromFile(webhookSecret, "webhook secret file"));
      redactor.add(secret.get().reveal());
    }
    QueuedJobs queuedJobs = new QueuedJobs(new JobDemand());

    FleetState state = new FleetState();
    FleetMetrics fleetMetrics =
        new FleetMetrics(hostName(), config.runtime(), VersionProvider.version(), state);
    Orchestrator.Builder builder =
        Orchestrator.builder(config)
            .redactor(redactor)
            .poolListener(both(state, fleetMetrics))
            .githubObserver(fleetMetrics);
    if (poll > 0) {
      builder.demand(
          queuedJobs, DemandReconciler.Options.defaults().withPeriod(Duration.ofSeconds(poll)));
    } else {
      builder.demand(queuedJobs);
    }
    Orchestrator orchestrator = builder.build();
    fleetMetrics.watchDemand(queuedJobs);
    List<AutoCloseable> services = new ArrayList<>();
    try {
      if (metricsListener.isPresent()) {
        HTTPServer server = fleetMetrics.serve(metricsListener.get());
        services.add(server);
        LOG.info(
            "Metrics at http://{}:{}/metrics",
            metricsListener.get().getAddress().getHostAddress(),
            server.getPort());
      }
      if (webhookListener.isPresent()) {
        WebhookReceiver receiver =
            WebhookReceiver.start(
                webhookListener.get(),
                secret.orElseThrow(),
                queuedJobs::accept,
                WebhookReceiver.Options.defaults());
        services.add(receiver);
        fleetMetrics.watchWebhooks(receiver);
        LOG.info(
            "Webhooks at http://{}:{}{}",
            receiver.address().getAddress().getHostAddress(),
            receiver.address().getPort(),
            WebhookReceiver.PATH);
      }
      StatusServer.start(config.stateDirectory(), config.prefix(), state, Clock.systemUTC())
          .ifPresent(services::add);
      if (file.isPresent()) {
        FleetFile fleetFile = file.get();
        OrchestratorConfig running = config;
        // What the file may not change while the orchestrator runs, as it started.
        Map<String, String> runningListeners =
            Map.of(
                "metrics", Objects.toString(metricsAddress, ""),
                "webhook", Objects.toString(webhookAddress, ""),
                "webhook-secret-file", Objects.toString(webhookSecret, ""),
                "poll", String.valueOf(poll));
        // Off the signal thread: a reload waits for pools to be replaced, loop by loop.
        Signals.onHangup(
            () -> {
              Thread reload =
                  new Thread(
                      () -> {
                        synchronized (fleetFile) {
                          reload(orchestrator, fleetFile, running, runningListeners);
                        }
                      },
                      "reload");
              reload.setDaemon(true);
              reload.start();
            });
      }
      return runUntilDone(orchestrator, redactor);
    } finally {
      for (AutoCloseable service : services) {
        service.close();
      }
    }
  }

  /** Whether {@code option} was given on the command line (not only by a variable). */
  private boolean given(String option) {
    return spec != null
        && spec.commandLine() != null
        && spec.commandLine().getParseResult() != null
        && spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  /**
   * The orchestrator's configuration from the file: its orchestrator section, with the options
   * given on the command line winning, then the variables and defaults.
   */
  OrchestratorConfig fleetConfig(FleetFile.Fleet fleet, Map<String, String> environment) {
    String fleetPrefix = given("--prefix") ? prefix : fleet.string("prefix").orElse(prefix);
    String fleetRuntime =
        given("--runtime")
            ? runtime
            : fleet
                .string("runtime")
                .orElse(runtime != null && !runtime.isBlank() ? runtime : "auto");
    int fleetParallelStart =
        given("--parallel-start")
            ? parallelStart
            : fleet.integer("parallel-start").map(Long::intValue).orElse(parallelStart);
    long fleetStartTimeout =
        given("--start-timeout")
            ? startTimeout
            : fleet.integer("start-timeout").orElse(startTimeout);
    Optional<Path> fleetBase =
        given("--base-dir")
            ? Optional.of(baseDirectory)
            : fleet.string("base-dir").map(Path::of).or(() -> Optional.ofNullable(baseDirectory));
    Path fleetState =
        given("--state-dir")
            ? stateDirectory.resolve(environment)
            : fleet
                .string("state-dir")
                .map(Path::of)
                .orElseGet(() -> stateDirectory.resolve(environment));
    try {
      return OrchestratorConfig.builder(fleet.pools())
          .prefix(fleetPrefix)
          .parallelStart(fleetParallelStart)
          .startTimeout(Duration.ofSeconds(fleetStartTimeout))
          .runtime(fleetRuntime)
          .baseDirectory(fleetBase)
          .stateDirectory(fleetState)
          .runtimeEnvironment(qemu.runtimeEnvironment())
          .build();
    } catch (InvalidSettingException e) {
      FleetFile.Node node = fleet.orchestrator().get(e.setting());
      if (node == null) {
        throw e;
      }
      throw new ConfigFileException(
          fleet.file(), node.line(), node.column(), "orchestrator." + e.setting(), e.problem());
    }
  }

  /**
   * SIGHUP: reads the file again and changes the pools as it now says; a file with an error, or one
   * that changes what only a restart can (the orchestrator section), changes nothing.
   */
  private void reload(
      Orchestrator orchestrator,
      FleetFile file,
      OrchestratorConfig running,
      Map<String, String> runningListeners) {
    FleetFile.Fleet fleet;
    OrchestratorConfig wanted;
    try {
      fleet = file.read();
      wanted = fleetConfig(fleet, System.getenv());
    } catch (RuntimeException e) {
      LOG.error("Reload refused, nothing changed: {}", logging.redactor().redact(e.getMessage()));
      return;
    }
    List<String> fixed = new ArrayList<>();
    if (!wanted.prefix().equals(running.prefix())) {
      fixed.add("prefix");
    }
    if (!wanted.runtime().equals(running.runtime())) {
      fixed.add("runtime");
    }
    if (wanted.parallelStart() != running.parallelStart()) {
      fixed.add("parallel-start");
    }
    if (!wanted.startTimeout().equals(running.startTimeout())) {
      fixed.add("start-timeout");
    }
    if (!wanted.baseDirectory().equals(running.baseDirectory())) {
      fixed.add("base-dir");
    }
    if (!wanted.stateDirectory().equals(running.stateDirectory())) {
      fixed.add("state-dir");
    }
    for (Map.Entry<String, String> listener : runningListeners.entrySet()) {
      String key = listener.getKey();
      Optional<String> inFile =
          key.equals("poll") ? fleet.integer(key).map(String::valueOf) : fleet.string(key);
      if (!given("--" + key) && !inFile.orElse(listener.getValue()).equals(listener.getValue())) {
        fixed.add(key);
      }
    }
    if (!fixed.isEmpty()) {
      LOG.error(
          "Reload refused, nothing changed: orchestrator {} cannot change while it runs;"
              + " restart it for that",
          fixed);
      return;
    }
    LOG.info("Reloading {}: {} pool(s)", file.path(), wanted.pools().size());
    try {
      orchestrator.reconfigure(wanted.pools()).get();
      LOG.info(
          "Reloaded {}: pools {}",
          file.path(),
          wanted.pools().stream().map(p -> p.name() + " (" + p.loops() + ")").toList());
    } catch (ExecutionException e) {
      LOG.error(
          "Reload failed, nothing changed: {}",
          logging.redactor().redact(String.valueOf(e.getCause().getMessage())));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("Reload refused, nothing changed: {}", logging.redactor().redact(e.getMessage()));
    }
  }

  /** {@code PORT} (on 127.0.0.1), {@code HOST:PORT} or {@code [V6]:PORT}. */
  static InetSocketAddress listenAddress(String setting, String value) {
    String text = value.trim();
    String host = "127.0.0.1";
    String port = text;
    int colon = text.lastIndexOf(':');
    if (colon >= 0) {
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
    }
    int number;
    try {
      number = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new InvalidSettingException(
          setting, "must be PORT or HOST:PORT, not '" + value + "'", e);
    }
    if (number < 0 || number > 65535 || host.isEmpty()) {
      throw new InvalidSettingException(
          setting, "must be PORT or HOST:PORT with a port up to 65535, not '" + value + "'");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), number);
    } catch (UnknownHostException e) {
      throw new InvalidSettingException(setting, "names an unknown host: '" + host + "'", e);
    }
  }

  private static PoolListener both(PoolListener first, PoolListener second) {
    return new PoolListener() {
      @Override
      public void onEvent(String pool, dev.microrunner.loop.LoopEvent event) {
        first.onEvent(pool, event);
        second.onEvent(pool, event);
      }

      @Override
      public void onPools(List<Pool> pools) {
        first.onPools(pools);
        second.onPools(pools);
      }
    };
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /**
   * Runs the orchestrator with SIGINT/SIGTERM handlers (the first stops gracefully, the second
   * skips the grace period) and maps its result to an exit status.
   */
  static int runUntilDone(Orchestrator orchestrator, Redactor redactor) throws Exception {
    Signals.onTermination(orchestrator::stop);
    Orchestrator.Result result = orchestrator.run();
    Optional<Ended> refused = result.refusal();
    if (refused.isPresent()) {
      System.err.println(
          redactor.redact(
              "microrunner: GitHub refused loop "
                  + refused.get().loop()
                  + ": "
                  + refused.get().failure().map(Throwable::getMessage).orElse("no details")));
      return ExitCodes.GITHUB_REFUSED;
    }
    Optional<Ended> failed = result.failure();
    if (failed.isPresent()) {
      System.err.println(
          redactor.redact(
              "microrunner: loop "
                  + failed.get().loop()
                  + " failed: "
                  + failed.get().failure().map(Throwable::getMessage).orElse("no details")));
      return ExitCodes.FAILURE;
    }
    LOG.info("{} runner(s) served; all loops ended cleanly", result.runners());
    return ExitCodes.OK;
  }
}
