package dev.microrunner.cli;

import dev.microrunner.loop.LoopEvent.Ended;
import dev.microrunner.loop.Orchestrator;
import dev.microrunner.loop.OrchestratorConfig;
import dev.microrunner.loop.Redactor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code microrunner orchestrator [options] [-- runner options]}: N runner loops in this process.
 * The runner options are parsed here, in-process, so that no credential ever goes on an argv.
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
      "Logging: ORCHESTRATOR_LOG (-l), now: ${env:ORCHESTRATOR_LOG:-stderr};"
          + " ORCHESTRATOR_VERBOSE (-v), now: ${env:ORCHESTRATOR_VERBOSE:-0}.",
    })
public final class OrchestratorCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(OrchestratorCommand.class);

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

  @Mixin StateDirectoryOption stateDirectory = new StateDirectoryOption();

  @Mixin QemuOptions qemu = new QemuOptions();

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Parameters(paramLabel = "RUNNER-OPTION", description = "Options of every loop, after --.")
  List<String> runnerArguments = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Map<String, String> environment = System.getenv();
    logging.apply("ORCHESTRATOR", environment);
    RunnerCommand runner = new RunnerCommand();
    new CommandLine(runner)
        .setOverwrittenOptionsAllowed(true)
        .parseArgs(runnerArguments.toArray(new String[0]));
    boolean isolation =
        !noIsolation && !"0".equals(environment.getOrDefault("ORCHESTRATOR_ISOLATION", "1").trim());
    OrchestratorConfig config =
        OrchestratorConfig.builder(runner.toConfig(environment, logging.redactor()))
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
    return runUntilDone(
        Orchestrator.builder(config).redactor(logging.redactor()).build(), logging.redactor());
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
