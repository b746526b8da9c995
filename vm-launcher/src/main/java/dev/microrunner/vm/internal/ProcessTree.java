package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The pieces of {@link CommandRunner.Running#terminate}, and SIGKILL to a process tree that is not
 * ours to stop gracefully (an orphan's workload).
 */
public final class ProcessTree {
  private ProcessTree() {}

  /** SIGKILL to {@code root} and everything it started. */
  public static void kill(ProcessHandle root) {
    kill(of(root));
  }

  /** {@code root} and its descendants as they are now; a mutable list. */
  public static List<ProcessHandle> of(ProcessHandle root) {
    List<ProcessHandle> tree = new ArrayList<>();
    Stream.concat(Stream.of(root), root.descendants()).forEach(tree::add);
    return tree;
  }

  /** SIGKILL to each of {@code processes} that is still alive. */
  public static void kill(List<ProcessHandle> processes) {
    processes.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }
}
