package dev.microrunner.vm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Running;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Running#terminate}: SIGTERM to the top only, then SIGKILL to what is left of the tree. */
class TerminateTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** A shell that starts {@code child} in the background, says ready and loops. */

  /** The child records a SIGTERM, which it must never get. */
  private static final String CHILD =
      "trap 'echo child-term >> \"$OUT/log\"; exit 0' TERM; while :; do sleep 0.1; done";

  @TempDir Path dir;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private Running start(String topTrap) throws Exception {
    Running running =
        CommandRunner.commonsExec()
            .start(
                Command.of(
                        List.of(
                            "/bin/sh",
                            "-c",
                            String.format(
                                "%s; sh -c \"$1\" & echo $! > \"$2/child\"; echo ready; while :; do sleep 0.1; done",
                                topTrap),
                            "sh",
                            CHILD,
                            dir.toString()),
                        ChildEnvironment.of(Map.of("OUT", dir.toString())))
                    .withOutput(lines::add, lines::add));
    await().atMost(WAIT).until(() -> lines.contains("ready"));
    return running;
  }

  private ProcessHandle child() throws Exception {
    long pid = Long.parseLong(Files.readString(dir.resolve("child")).strip());
    return ProcessHandle.of(pid).orElseThrow();
  }

  private String log() throws Exception {
    Path log = dir.resolve("log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Test
  void signalsOnlyTheTopThenKillsTheDescendantsItLeftBehind() throws Exception {
    Running running = start("trap 'echo top-term >> \"$OUT/log\"; exit 0' TERM");
    ProcessHandle child = child();

    assertTrue(running.terminate(WAIT), "the top ended within the grace period");

    assertEquals(0, running.awaitExit(WAIT).orElseThrow(), "the top's trap ended it");
    await().atMost(WAIT).until(() -> !child.isAlive());
    assertEquals("top-term\n", log(), "only the top was asked to stop");
  }

  @Test
  void killsTheTreeWhenTheTopIgnoresSigtermForTheGracePeriod() throws Exception {
    Running running = start("trap '' TERM");
    ProcessHandle child = child();

    assertFalse(running.terminate(Duration.ofMillis(300)), "the top had to be killed");

    assertEquals(137, running.awaitExit(WAIT).orElseThrow(), "SIGKILL, not the trap");
    await().atMost(WAIT).until(() -> !child.isAlive());
    assertEquals("", log(), "the child got SIGKILL only");
  }

  @Test
  void aCommandWithoutAProcessIsKilled() throws Exception {
    List<String> calls = new CopyOnWriteArrayList<>();
    Running fake =
        new Running() {
          @Override
          public Optional<ProcessHandle> process() {
            return Optional.empty();
          }

          @Override
          public Optional<Integer> awaitExit(Duration timeout) {
            return Optional.empty();
          }

          @Override
          public Optional<Integer> exitStatus() {
            return Optional.empty();
          }

          @Override
          public void kill() {
            calls.add("kill");
          }
        };

    assertFalse(fake.terminate(Duration.ofSeconds(1)));

    assertTrue(calls.contains("kill"), calls.toString());
  }
}
