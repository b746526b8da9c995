package dev.microrunner.cli;

import dev.microrunner.bench.Bench;
import dev.microrunner.bench.BenchResult;
import dev.microrunner.bench.Burst;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code microrunner bench}: the runner-loop benchmark, on this host, as a table. */
@Command(
    name = "bench",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Benchmarks the runner loops on this host and prints a table.",
      "",
      "Measures microrunner's own cost with stand-in guests that register and end at once, against"
          + " the built-in GitHub simulator: the time from the first loop's VM start to the fourth"
          + " loop's; the median host gap between one VM's exit and the next VM's start, also with"
          + " slow GitHub calls; the memory of an orchestrator process with many loops; and the"
          + " time from SIGTERM to exit with busy loops (every VM and registration gone).",
      "Prints a table (metric, measured, target, earlier implementation, pass/fail) and how each"
          + " figure was taken. Exit status 0 when every target is met, 1 otherwise. Takes about"
          + " a minute with the process runtime.",
      "",
      "With --burst N, measures instead a burst of N jobs queued at once, served by a fixed pool"
          + " and by a demand-driven one (min-idle 1, max N), with in-process guests: queue wait"
          + " and idle VM-seconds of both, side by side. The last line is: burst N: fixed K loops"
          + " p95 wait A s, autoscaled p95 wait B s; idle VM-seconds C vs D. Exit status 0 when"
          + " every job ran and the autoscaled p95 wait is at most a third of the fixed pool's"
          + " with fewer idle VM-seconds, 1 otherwise.",
    })
public final class BenchCommand implements Callable<Integer> {

  @Option(
      names = {"-R", "--runtime"},
      defaultValue = "process",
      description =
          "VM runtime: process (default: measures microrunner alone), podman+krun, krunvm,"
              + " podman+crun or podman+runc.")
  String runtime;

  @Option(
      names = {"-i", "--image"},
      defaultValue = "docker.io/library/busybox:latest",
      description =
          "Image of the stand-in guests for VM runtimes; it needs /bin/sh and sleep (default"
              + " ${DEFAULT-VALUE}).")
  String image;

  @Option(
      names = "--runs",
      defaultValue = "5",
      description = "Repetitions of the start-up and gap measurements (default ${DEFAULT-VALUE}).")
  int runs;

  @Option(
      names = "--iterations",
      defaultValue = "21",
      description = "Runners per gap run, giving one gap fewer (default ${DEFAULT-VALUE}).")
  int iterations;

  @Option(
      names = "--latency",
      paramLabel = "MS",
      defaultValue = "150",
      description = "Delay of every GitHub call in the latency row (default ${DEFAULT-VALUE}).")
  long latency;

  @Option(
      names = "--latency-guest",
      paramLabel = "MS",
      defaultValue = "0",
      description =
          "How long guests live in the latency row (default ${DEFAULT-VALUE}: they end at once, and"
              + " the loop must have registrations ready ahead).")
  long latencyGuest;

  @Option(
      names = "--memory-loops",
      defaultValue = "50",
      description = "Loops of the memory measurement (default ${DEFAULT-VALUE}).")
  int memoryLoops;

  @Option(
      names = "--stop-loops",
      defaultValue = "16",
      description = "Busy loops of the SIGTERM measurement (default ${DEFAULT-VALUE}).")
  int stopLoops;

  @Option(
      names = "--grace",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "Grace period of the SIGTERM measurement (default ${DEFAULT-VALUE}).")
  long grace;

  @Option(
      names = "--stand-in",
      paramLabel = "DIR",
      description =
          "A stand-in podman that logs its calls with timestamps (e.g. fake-podman): also measure"
              + " the host gap from outside, against a bare shell loop on the same stand-in.")
  Path standIn;

  @Option(
      names = "--stand-in-runners",
      paramLabel = "N",
      defaultValue = "200",
      description =
          "VMs of each loop on the stand-in; enough that the first, slower ones weigh little"
              + " (default ${DEFAULT-VALUE}).")
  int standInRunners;

  @Option(
      names = "--burst",
      paramLabel = "N",
      description =
          "Measure a burst of N jobs queued at once, fixed pool against demand-driven pool, instead"
              + " of the table.")
  Integer burst;

  @Option(
      names = "--burst-fixed-loops",
      paramLabel = "K",
      defaultValue = "4",
      description = "Loops of the burst's fixed pool (default ${DEFAULT-VALUE}).")
  int burstFixedLoops;

  @Option(
      names = "--burst-job-seconds",
      paramLabel = "SECONDS",
      defaultValue = "2",
      description = "How long each job of the burst runs (default ${DEFAULT-VALUE}).")
  double burstJobSeconds;

  @Option(
      names = "--burst-idle-timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "Idle timeout of the burst's demand-driven pool (default ${DEFAULT-VALUE}).")
  long burstIdleTimeout;

  @Option(
      names = "--burst-settle",
      paramLabel = "SECONDS",
      defaultValue = "15",
      description =
          "How long the burst's measuring window lasts past the last job's end (default"
              + " ${DEFAULT-VALUE}).")
  long burstSettle;

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    logging.apply("BENCH", System.getenv());
    if (logging.verbose.length == 0) {
      // The loops log every runner; the table is what matters here.
      Logging.errorsOnly("dev.microrunner", "microrunner.console");
    }
    if (burst != null) {
      return burst();
    }
    Bench.Options options =
        new Bench.Options(
            runtime,
            image,
            runs,
            iterations,
            Duration.ofMillis(latency),
            Duration.ofMillis(latencyGuest),
            memoryLoops,
            stopLoops,
            Duration.ofSeconds(grace),
            Optional.ofNullable(standIn),
            standInRunners);
    List<BenchResult> results =
        new Bench(options, spec.commandLine().getErr(), logging.redactor()).run();
    BenchResult.printTable(results, spec.commandLine().getOut());
    return results.stream().allMatch(BenchResult::pass) ? ExitCodes.OK : ExitCodes.FAILURE;
  }

  private int burst() throws Exception {
    Burst.Options options =
        new Burst.Options(
            burst,
            burstFixedLoops,
            Duration.ofMillis(Math.round(burstJobSeconds * 1000)),
            Duration.ofSeconds(burstIdleTimeout),
            Duration.ofSeconds(burstSettle));
    Burst.Result result = new Burst(options, spec.commandLine().getErr(), logging.redactor()).run();
    result.print(spec.commandLine().getOut());
    return result.targetMet() ? ExitCodes.OK : ExitCodes.FAILURE;
  }
}
