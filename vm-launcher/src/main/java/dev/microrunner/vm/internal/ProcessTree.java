package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Ends a process and everything it started. Descendants are collected before the root dies, because
 * they are re-parented to init afterwards and can no longer be found from it.
 */
final class ProcessTree {
  private ProcessTree() {}

  /** SIGTERM to the tree, up to {@code grace} for the root to end, then SIGKILL to the tree. */
  static void terminate(CommandRunner.Running running, Duration grace) throws InterruptedException {
    ProcessHandle root = running.process().orElse(null);
    if (root == null) {
      running.kill();
      return;
    }
    List<ProcessHandle> seen = new ArrayList<>(snapshot(root));
    seen.forEach(ProcessHandle::destroy);
    if (running.awaitExit(grace).isPresent() && seen.stream().noneMatch(ProcessHandle::isAlive)) {
      return;
    }
    seen.addAll(snapshot(root));
    seen.forEach(ProcessHandle::destroyForcibly);
  }

  /** SIGKILL to a process tree that is not ours to wait for (an orphan's workload). */
  static void kill(ProcessHandle root) {
    snapshot(root).forEach(ProcessHandle::destroyForcibly);
  }

  private static List<ProcessHandle> snapshot(ProcessHandle root) {
    return Stream.concat(Stream.of(root), root.descendants()).collect(Collectors.toList());
  }
}
