package dev.microrunner.vm;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash recovery of the process runtime: the workloads of an instance that died are found by a new
 * instance from their environment markers alone, with no state file, and deleted as a whole tree.
 */
class ProcessRuntimeCrashRecoveryTest {
  @TempDir Path temp;

  private final Console console = new Console();
  private final List<MicroVmRuntime> runtimes = new ArrayList<>();

  @AfterEach
  void closeRuntimes() {
    runtimes.forEach(MicroVmRuntime::close);
  }

  private MicroVmRuntime runtime(VmOwner owner, Path stateDirectory) throws VmException {
    MicroVmRuntime runtime =
        MicroVmRuntimes.create("process", RuntimeOptions.builder(owner, stateDirectory).build());
    runtimes.add(runtime);
    return runtime;
  }

  @Test
  void aNewInstanceFindsAndDeletesTheWholeWorkloadTreeOfACrashedOne() throws Exception {
    String prefix = "mrc" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    VmOwner crashed =
        MicroVmRuntimeContract.deadOwner(prefix, VmOwner.forThisProcess(prefix).host());
    Path crashedState = temp.resolve("crashed-state");
    String vmName = prefix + "-left-over";
    // The root, a child, a daemon that left the tree (its parent subshell ends), and a child that
    // cleared its environment: the marker scan must reach all four.
    VmHandle leftOver =
        runtime(crashed, crashedState)
            .start(
                VmSpec.builder()
                    .name(vmName)
                    .image("ignored")
                    .cpus(1)
                    .memoryMib(64)
                    .entrypoint("/bin/sh")
                    .args(
                        List.of(
                            "-c",
                            "echo root $$; sleep 600 & echo child $!; (sleep 600 & echo daemon $!) ;"
                                + " env -i sleep 600 & echo clean $!;"
                                + " echo ready; while true; do sleep 0.1; done"))
                    .build(),
                console);
    await().atMost(Duration.ofSeconds(30)).until(() -> console.of(vmName).contains("ready"));
    List<Long> pids = pidsFrom(console.of(vmName));
    assertFalse(Files.exists(crashedState), "the process runtime writes no state file");

    Path freshState = temp.resolve("fresh-state");
    MicroVmRuntime successor = runtime(VmOwner.forThisProcess(prefix), freshState);
    List<VmInfo> orphans = successor.listOrphans();
    assertEquals(List.of(vmName), orphans.stream().map(VmInfo::name).collect(Collectors.toList()));
    assertEquals(crashed, orphans.get(0).owner());
    assertEquals(List.of(), successor.list());

    successor.delete(vmName);

    assertEquals(List.of(), successor.listOrphans());
    for (long pid : pids) {
      await().atMost(Duration.ofSeconds(30)).until(() -> !running(pid));
    }
    assertTrue(leftOver.awaitExit(Duration.ofSeconds(30)).isPresent());
    assertFalse(Files.exists(freshState), "nor does its successor");
  }

  private static List<Long> pidsFrom(List<String> lines) {
    List<Long> pids = new ArrayList<>();
    for (String line : lines) {
      String[] words = line.split(" ", -1);
      if (words.length == 2 && List.of("root", "child", "daemon", "clean").contains(words[0])) {
        pids.add(Long.parseLong(words[1]));
      }
    }
    assertEquals(4, pids.size(), lines.toString());
    return pids;
  }

  /** Alive and not a zombie (an ended process whose parent has not collected it yet). */
  private static boolean running(long pid) throws IOException {
    Optional<ProcessHandle> process = ProcessHandle.of(pid);
    if (process.isEmpty() || !process.get().isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException e) {
      return false;
    }
  }
}
