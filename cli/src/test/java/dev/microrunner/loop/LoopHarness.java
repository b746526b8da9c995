package dev.microrunner.loop;

import dev.microrunner.cli.SimulatedRunnerMain;
import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.github.sim.SimulatorOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The real pieces for loop tests: the GitHub simulator on 127.0.0.1, a simulated actions/runner
 * distribution, and the agent started from this JVM's class path as the process runtime's
 * entrypoint.
 */
final class LoopHarness implements AutoCloseable {

  static final String PAT = "ghp_" + "T3stT0kenF0rTheS1mulat0rOnly0000abcd";
  static final List<String> LABELS = List.of("self-hosted", "microrunner-test");
  static final String PRINCIPAL = "octo/hello";

  final GitHubSimulator sim;
  final Path work;
  final Path distribution;
  final Path agent;
  final Queue<LoopEvent> events = new ConcurrentLinkedQueue<>();

  private LoopHarness(GitHubSimulator sim, Path work, Path distribution, Path agent) {
    this.sim = sim;
    this.work = work;
    this.distribution = distribution;
    this.agent = agent;
  }

  static LoopHarness start(Path work) throws IOException {
    GitHubSimulator sim = GitHubSimulator.start(SimulatorOptions.defaults());
    sim.acceptToken(PAT);
    sim.addRepository(PRINCIPAL);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("java.class.path");
    Path distribution = work.resolve("actions-runner");
    // The simulated runner's JVMs start small and fast, as the agent's do.
    Path smallJava =
        script(
            work.resolve("java"),
            "exec '" + java + "' -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \"$@\"");
    SimulatedRunnerDistribution.write(
        distribution, smallJava.toString(), classpath, SimulatedRunnerMain.class.getName());
    Path agent =
        script(
            work.resolve("agent"),
            "exec '"
                + java
                + "' -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp '"
                + classpath
                + "' dev.microrunner.cli.Main agent \"$@\"");
    return new LoopHarness(sim, work, distribution, agent);
  }

  /** An executable shell script with this body. */
  static Path script(Path file, String body) throws IOException {
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  void enqueueJobs(int count, Duration duration) {
    for (int i = 1; i <= count; i++) {
      sim.enqueueJob(new SimJob("job-" + i, LABELS, duration));
    }
  }

  /** Runners of the simulated repository, served by the real agent and simulated runner. */
  RunnerConfig.Builder runner() {
    return RunnerConfig.builder()
        .target(GitHubTarget.of(sim.apiUrl().toString()))
        .scope(RunnerScope.of("repo", PRINCIPAL))
        .credentials(Credentials.pat(Secret.of(PAT)))
        .labels(LABELS)
        .vm(
            vm ->
                vm.entrypoint(agent.toString())
                    .args()
                    .environment(Map.of("RUNNER_INSTALL", distribution.toString())))
        .grace(Duration.ofSeconds(10))
        .registrationTimeout(Duration.ofSeconds(60))
        .backoff(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1)));
  }

  OrchestratorConfig.Builder orchestrator(RunnerConfig runner) {
    return OrchestratorConfig.builder(runner)
        .runtime("process")
        .prefix("mrtest")
        .stateDirectory(work.resolve("state"))
        .baseDirectory(java.util.Optional.of(work.resolve("base")));
  }

  Orchestrator build(OrchestratorConfig config) {
    return Orchestrator.builder(config).listener(events::add).build();
  }

  /** An orchestrator whose waits are skipped (see {@link SkippingTime}). */
  Orchestrator build(OrchestratorConfig config, SkippingTime time) {
    return Orchestrator.builder(config).listener(events::add).time(time).build();
  }

  <T extends LoopEvent> List<T> events(Class<T> type) {
    return events.stream().filter(type::isInstance).map(type::cast).toList();
  }

  @Override
  public void close() {
    sim.close();
  }
}
