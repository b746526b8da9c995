package dev.microrunner.image.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.image.CommandRunner;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExecCommandRunnerTest {
  final ExecCommandRunner runner = new ExecCommandRunner();

  @Test
  void returnsStatusOutputAndTheTailOfStderr() throws Exception {
    CommandRunner.CommandResult result =
        runner.run(
            List.of(
                "sh",
                "-c",
                "echo one; echo \"$GREETING\"; i=0; while [ $i -lt 30 ]; do echo err$i >&2;"
                    + " i=$((i+1)); done; exit 3"),
            Map.of("GREETING", "two words"));
    assertEquals(3, result.exitStatus());
    assertEquals(List.of("one", "two words"), result.stdout());
    List<String> tail = List.of(result.stderrTail().split("\n"));
    assertEquals(20, tail.size());
    assertEquals("err10", tail.get(0));
    assertEquals("err29", tail.get(19));
  }

  @Test
  void passesEachArgumentAsIs() throws Exception {
    CommandRunner.CommandResult result =
        runner.run(List.of("printf", "%s|", "a b", "\"q\"", "$x", ""), Map.of());
    assertEquals(List.of("a b|\"q\"|$x||"), result.stdout());
  }

  @Test
  void aMissingProgramIsAnIOException() {
    IOException error =
        assertThrows(
            IOException.class,
            () -> runner.run(List.of("/nonexistent/microrunner-no-such-program"), Map.of()));
    assertTrue(error.getMessage().contains("microrunner-no-such-program"), error.getMessage());
  }
}
