package dev.microrunner.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.RuntimeCommandException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommonsExecCommandRunnerTest {
  private final CommonsExecCommandRunner runner = new CommonsExecCommandRunner();

  @Test
  void runsWithExactlyTheGivenEnvironmentAndDirectory(@TempDir Path dir) throws Exception {
    Result result =
        runner.run(
            Command.of(
                    List.of("/bin/sh", "-c", "env; pwd; echo oops >&2; exit 7"),
                    Map.of("ONLY", "this"))
                .withWorkingDirectory(dir));

    assertEquals(7, result.exitStatus());
    assertTrue(result.stdout().contains("ONLY=this"), result.stdout().toString());
    assertTrue(
        result.stdout().stream().noneMatch(line -> line.startsWith("HOME=")), "nothing inherited");
    assertTrue(result.stdout().contains(dir.toString()));
    assertEquals(List.of("oops"), result.stderr());
  }

  @Test
  void streamsLinesOfAStartedCommand() throws Exception {
    List<String> lines = new CopyOnWriteArrayList<>();
    Running running =
        runner.start(
            Command.of(List.of("/bin/sh", "-c", "echo one; echo two >&2; exit 5"), Map.of())
                .withOutput(lines::add, lines::add));

    assertEquals(5, running.awaitExit(Duration.ofSeconds(30)).orElseThrow());
    assertTrue(lines.containsAll(List.of("one", "two")), lines.toString());
    assertTrue(running.process().isPresent());
  }

  @Test
  void timesOut() {
    RuntimeCommandException failure =
        assertThrows(
            RuntimeCommandException.class,
            () ->
                runner.run(
                    Command.of(List.of("/bin/sleep", "30"), Map.of())
                        .withTimeout(Duration.ofMillis(300))));
    assertTrue(failure.getMessage().contains("timed out"), failure.getMessage());
    assertTrue(failure.exitStatus().isEmpty());
  }

  @Test
  void reportsAProgramThatCannotBeLaunched() {
    RuntimeCommandException failure =
        assertThrows(
            RuntimeCommandException.class,
            () -> runner.run(Command.of(List.of("/no/such/tool", "x"), Map.of())));
    assertTrue(failure.getMessage().contains("/no/such/tool"), failure.getMessage());
  }
}
