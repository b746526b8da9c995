package dev.microrunner.cli;

import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.github.sim.SimulatorOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The built jar started as a real process against the simulator (for failsafe ITs). */
final class CliProcess {

  static final String PAT = "ghp_" + "Cl1Pr0cessT0kenF0rTheS1mulat0r000wxyz";
  static final String SECRET = "LoopSecretForTheCliTestsOnly_0123456789abc";
  static final List<String> LABELS = List.of("self-hosted", "microrunner-it");
  static final String PRINCIPAL = "octo/hello";

  final Path jar;
  final Path work;
  final GitHubSimulator sim;
  final Path distribution;

  CliProcess(Path work) throws IOException {
    String configured = System.getProperty("microrunner.jar");
    if (configured == null) {
      throw new IllegalStateException("run through failsafe: microrunner.jar is not set");
    }
    this.jar = Path.of(configured).toAbsolutePath();
    this.work = work;
    this.sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository(PRINCIPAL);
    this.distribution = work.resolve("actions-runner");
    SimulatedRunnerDistribution.write(distribution, jar, SimulatedRunnerMain.class.getName());
  }

  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  void enqueueJobs(int count, Duration duration) {
    for (int i = 1; i <= count; i++) {
      sim.enqueueJob(new SimJob("job-" + i, LABELS, duration));
    }
  }

  /** {@code microrunner orchestrator} on the process runtime, with the jar's own agent. */
  Process orchestrator(String prefix, int loops, String... runnerOptions) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "orchestrator",
                "-n",
                String.valueOf(loops),
                "--parallel-start",
                String.valueOf(loops),
                "-R",
                "process",
                "-p",
                prefix,
                "--state-dir",
                work.resolve("state").toString(),
                "--base-dir",
                baseDirectory(prefix).toString(),
                "-l",
                work.resolve(prefix + ".log").toString(),
                "--",
                "-g",
                sim.apiUrl().toString(),
                "-p",
                PRINCIPAL,
                "-L",
                String.join(",", LABELS),
                "--entrypoint",
                jar.resolveSibling("agent").toString(),
                "--env",
                "RUNNER_INSTALL=" + distribution,
                "--env",
                "MICRORUNNER_JAVA=" + java(),
                "--grace",
                "10"));
    command.addAll(Arrays.asList(runnerOptions));
    return start(command, Map.of("RUNNER_PAT", PAT, "RUNNER_SECRET", SECRET), prefix + ".out");
  }

  Path baseDirectory(String prefix) {
    return work.resolve("base-" + prefix);
  }

  Process start(List<String> arguments, Map<String, String> environment, String output)
      throws IOException {
    List<String> command = new ArrayList<>(List.of(java(), "-jar", jar.toString()));
    command.addAll(arguments);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().remove("RUNNER_PAT");
    builder.environment().putAll(environment);
    builder.redirectErrorStream(true);
    builder.redirectOutput(work.resolve(output).toFile());
    return builder.start();
  }

  /** Runs to completion; returns the exit status and the combined output. */
  Run run(Map<String, String> environment, String... arguments) throws Exception {
    String output = "run-" + System.nanoTime() + ".out";
    Process process = start(List.of(arguments), environment, output);
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("microrunner " + List.of(arguments) + " did not end in 60 s");
    }
    return new Run(process.exitValue(), Files.readString(work.resolve(output)));
  }

  record Run(int status, String output) {}

  String read(String file) throws IOException {
    Path path = work.resolve(file);
    return Files.exists(path) ? Files.readString(path) : "";
  }
}
