package dev.microrunner.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.microrunner.loop.internal.InstanceJournal;
import dev.microrunner.vm.VmOwner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base directory given with --base-dir may be shared: clean-up and crash recovery delete only the
 * directories of their own prefix in it.
 */
class BaseDirectoryTest {

  @TempDir Path work;
  private LoopHarness harness;
  private Path base;

  @BeforeEach
  void start() throws Exception {
    harness = LoopHarness.start(work);
    base = Files.createDirectories(work.resolve("base"));
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  private void runLoopsThatEndAtOnce() {
    Orchestrator orchestrator =
        harness.build(harness.orchestrator(harness.runner().repeat(0).build()).loops(2).build());
    assertTimeoutPreemptively(Duration.ofSeconds(60), orchestrator::run);
  }

  @Test
  void aCleanExitKeepsWhatElseIsInTheBaseDirectory() throws Exception {
    Path otherInstance = Files.createDirectories(base.resolve("other-001"));
    Path notes = Files.writeString(base.resolve("notes.txt"), "not microrunner's");

    runLoopsThatEndAtOnce();

    assertTrue(Files.isDirectory(otherInstance), "another prefix's loop directory was deleted");
    assertTrue(Files.exists(notes), "an unrelated file was deleted");
    assertFalse(Files.exists(base.resolve("mrtest-001")), "own loop directory left behind");
    assertFalse(Files.exists(base.resolve(".mrtest-001.claims")), "own claims left behind");
  }

  @Test
  void crashRecoveryDeletesOnlyTheDeadInstancesDirectories() throws Exception {
    Process ended = new ProcessBuilder("true").start();
    ended.waitFor();
    VmOwner dead =
        new VmOwner(
            "mrtest",
            VmOwner.forThisProcess("mrtest").host(),
            "deadinstance",
            ended.pid(),
            System.currentTimeMillis());
    Path crashed = work.resolve("crashed");
    Files.createDirectories(crashed.resolve("mrtest-007"));
    Files.writeString(crashed.resolve("mrtest-007").resolve("7-abcdefgh.tkn"), "registered");
    Files.createDirectories(crashed.resolve(".mrtest-007.claims"));
    Path otherInstance = Files.createDirectories(crashed.resolve("other-001"));
    InstanceJournal.create(work.resolve("state"), dead, crashed);

    runLoopsThatEndAtOnce();

    assertFalse(Files.exists(crashed.resolve("mrtest-007")), "the dead instance's directory");
    assertFalse(Files.exists(crashed.resolve(".mrtest-007.claims")), "the dead instance's claims");
    assertTrue(Files.isDirectory(otherInstance), "another prefix's loop directory was deleted");
    try (var stateFiles = Files.list(work.resolve("state"))) {
      assertEquals(0, stateFiles.filter(f -> f.toString().endsWith(".state.json")).count());
    }
  }
}
