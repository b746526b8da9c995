package dev.microrunner.github.sim;

import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.JitConfig;
import dev.microrunner.github.JitRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A JIT runner of the simulated actions/runner listener in this JVM, on a thread of its own: it
 * takes one job that matches its labels over real HTTP, runs it and exits.
 */
final class InProcessRunner {

  private InProcessRunner() {}

  /** Registers {@code name} through {@code client} and runs it; completes with its exit status. */
  static CompletableFuture<Integer> start(
      GitHubRunnerClient client, String name, List<String> labels, Path root) throws Exception {
    JitConfig jit = client.generateJitConfig(new JitRequest(name, 1, labels));
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    PrintStream stream = new PrintStream(output, true, StandardCharsets.UTF_8);
    return CompletableFuture.supplyAsync(
        () ->
            SimulatedRunner.execute(
                new String[] {"run", "--root", root.toString()},
                Map.of("ACTIONS_RUNNER_INPUT_JITCONFIG", jit.encodedJitConfig().reveal()),
                stream,
                stream,
                onTermination -> {}));
  }
}
