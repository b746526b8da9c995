package dev.microrunner.vm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Result;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.RuntimeCommandException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
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
  void deliversEveryLineOfBothStreamsBeforeTheExitStatus() throws Exception {
    List<String> out = new CopyOnWriteArrayList<>();
    List<String> err = new CopyOnWriteArrayList<>();
    Running running =
        runner.start(
            Command.of(
                    List.of(
                        "/bin/sh",
                        "-c",
                        "i=0; while [ $i -lt 3000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done;"
                            + " printf unterminated"),
                    Map.of())
                .withOutput(out::add, err::add));

    assertEquals(0, running.awaitExit(Duration.ofSeconds(30)).orElseThrow());
    // A started command is a console: standard error joins standard output, in order.
    assertEquals(6001, out.size());
    assertEquals(List.of("o0", "e0", "o1", "e1"), out.subList(0, 4));
    assertEquals("e2999", out.get(5999));
    assertEquals("unterminated", out.get(6000));
    assertEquals(List.of(), err);
  }

  @Test
  void anOrphanHoldingTheOutputOpenDelaysTheExitByTheDrainTimeOnly() throws Exception {
    List<String> out = new CopyOnWriteArrayList<>();
    Running running =
        runner.start(
            Command.of(
                    List.of("/bin/sh", "-c", "sleep 30 & echo $!; echo leaving; exit 3"), Map.of())
                .withOutput(out::add, out::add));
    try {
      long start = System.nanoTime();
      assertTrue(running.awaitEnd(Duration.ofSeconds(30)), "the shell itself ended");
      assertEquals(3, running.awaitExit(Duration.ofSeconds(30)).orElseThrow());
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertTrue(
          took.compareTo(ConsoleProcess.DRAIN.plusSeconds(5)) < 0,
          "took " + took + " while the orphan holds the pipe for 30 s");
      assertEquals("leaving", out.get(1));
    } finally {
      ProcessHandle.of(Long.parseLong(out.get(0))).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void reportsAMissingWorkingDirectoryOfAStartedCommand(@TempDir Path dir) {
    Path missing = dir.resolve("missing");
    RuntimeCommandException failure =
        assertThrows(
            RuntimeCommandException.class,
            () ->
                runner.start(
                    Command.of(List.of("/bin/true"), Map.of()).withWorkingDirectory(missing)));
    assertTrue(failure.getMessage().contains(missing.toString()), failure.getMessage());
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

  @Test
  void findsABareProgramNameOnTheChildsPath(@TempDir Path dir) throws Exception {
    Path tool = dir.resolve("microrunner-test-tool");
    Files.writeString(tool, "#!/bin/sh\necho found \"$0\"\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));

    Result result =
        runner.run(
            Command.of(List.of("microrunner-test-tool"), Map.of("PATH", dir + ":/usr/bin:/bin")));

    assertEquals(List.of("found " + tool), result.stdout());
  }

  @Test
  void aBareProgramNameNotOnTheChildsPathIsNotLaunched(@TempDir Path dir) {
    RuntimeCommandException failure =
        assertThrows(
            RuntimeCommandException.class,
            () ->
                runner.start(
                    Command.of(List.of("sh", "-c", "true"), Map.of("PATH", dir.toString()))));
    assertTrue(failure.getMessage().contains("sh not found on PATH " + dir), failure.getMessage());
  }

  @Test
  void keepsTheOutputAndGivesTheTailOfStderr() throws Exception {
    Result result =
        runner.run(
            Command.of(
                List.of(
                    "/bin/sh",
                    "-c",
                    "echo one; echo \"$GREETING\"; i=0; while [ $i -lt 30 ]; do echo err$i >&2;"
                        + " i=$((i+1)); done; exit 3"),
                Map.of("GREETING", "two words")));

    assertEquals(3, result.exitStatus());
    assertEquals(List.of("one", "two words"), result.stdout());
    List<String> tail = List.of(result.stderrTail().split("\n"));
    assertEquals(Result.TAIL_LINES, tail.size());
    assertEquals("err10", tail.get(0));
    assertEquals("err29", tail.get(19));
  }

  @Test
  void passesEachArgumentAsIs() throws Exception {
    Result result =
        runner.run(
            Command.of(
                List.of("/usr/bin/printf", "%s|", "a b", "\"q\"", "$x", "", "'*'"), Map.of()));

    assertEquals(List.of("a b|\"q\"|$x||'*'|"), result.stdout());
  }
}
