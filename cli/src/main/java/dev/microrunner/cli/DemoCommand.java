package dev.microrunner.cli;

import dev.microrunner.cli.demo.Demo;
import dev.microrunner.loop.RunnerConfig;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code microrunner demo}: microrunner end to end on this machine, with GitHub simulated. */
@Command(
    name = "demo",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Runs a batch of jobs through ephemeral runners, with GitHub simulated.",
      "",
      "Starts the GitHub simulator, queues jobs and runs an orchestrator whose ephemeral runners"
          + " (the real agent and handshake, a simulated actions/runner) take one job each. It uses"
          + " the best microVM runtime installed, else the process runtime (no isolation; a banner"
          + " says so). When every job is done it stops the orchestrator (.trm, clean-up), prints a"
          + " table per runner and, last, 'demo: M/M jobs completed by K ephemeral runners'.",
      "Exit status 0 then; 1 with a message on failure, 2 for a bad option, 4 when the runtime"
          + " named with -R cannot run here, 130 when interrupted by SIGINT or SIGTERM. Nothing is left"
          + " running either way.",
    })
public final class DemoCommand implements Callable<Integer> {

  @Option(
      names = {"-n", "--loops"},
      defaultValue = "3",
      description = "Runner loops (default ${DEFAULT-VALUE}).")
  int loops;

  @Option(
      names = "--jobs",
      paramLabel = "M",
      defaultValue = "6",
      description = "Jobs to run (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(
      names = {"-R", "--runtime"},
      defaultValue = "auto",
      description =
          "auto (default: podman+krun, krunvm or qemu with KVM, else process), podman+krun,"
              + " krunvm, qemu (with --accel tcg where KVM does not work), podman+crun, podman+runc"
              + " or process.")
  String runtime;

  @Option(
      names = "--job-duration",
      paramLabel = "SECONDS",
      defaultValue = "1",
      description = "How long each job runs (default ${DEFAULT-VALUE}).")
  BigDecimal jobDuration;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      description =
          "Give up (and clean up) after this long (default 300; 1200 with --accel tcg, where"
              + " every VM is emulated).")
  Long timeout;

  @Option(
      names = {"-i", "--image"},
      defaultValue = RunnerConfig.DEFAULT_IMAGE,
      description =
          "Image for VM runtimes (it must hold microrunner's agent and a JRE at"
              + " /opt/microrunner/jre); default ${DEFAULT-VALUE}.")
  String image;

  @Option(
      names = "--max",
      paramLabel = "N",
      description =
          "Instead of -n fixed loops, runners on demand: one waits idle, and up to N VMs start as"
              + " the simulator's signed workflow_job webhooks report queued jobs (the path of a"
              + " pool with min-idle and max).")
  int max;

  @Mixin QemuOptions qemu = new QemuOptions();

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    logging.apply("DEMO", System.getenv());
    if (logging.verbose.length == 0) {
      // The demo's own lines tell the story; the loops' logs are there with -v.
      Logging.errorsOnly(org.slf4j.Logger.ROOT_LOGGER_NAME, "dev.microrunner");
    }
    Demo demo =
        new Demo(
            new Demo.Options(
                loops,
                jobs,
                runtime,
                SimCommand.durationOf(jobDuration, "--job-duration"),
                Duration.ofSeconds(
                    timeout != null
                        ? timeout
                        : qemu.runtimeEnvironment().containsValue("tcg") ? 1200 : 300),
                image,
                qemu.runtimeEnvironment(),
                max),
            spec.commandLine().getOut(),
            spec.commandLine().getErr(),
            isTerminal(System.console()),
            logging.redactor());
    Signals.onTermination(demo::interrupt);
    return demo.run();
  }

  /**
   * Whether standard output is a terminal, for a live status line. Up to Java 21 a console exists
   * only then; from Java 22 on it always exists and says so through {@code isTerminal()}.
   */
  static boolean isTerminal(java.io.Console console) {
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }
}
