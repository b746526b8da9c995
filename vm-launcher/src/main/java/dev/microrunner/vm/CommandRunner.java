package dev.microrunner.vm;

import dev.microrunner.vm.internal.CommonsExecCommandRunner;
import dev.microrunner.vm.internal.ProcessTree;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The one way microrunner runs external processes: the runtimes' tools (podman, krunvm, buildah)
 * and the process runtime's workload, image-build's builds, and the in-VM agent's runner. The seam
 * that unit tests replace with a recording fake; {@link #commonsExec()} is the real one.
 *
 * <p>A child gets exactly the environment its {@link Command} names: build it with {@link
 * ChildEnvironment}, which passes on an allow-list of this process's variables plus what the caller
 * adds. A program named without a slash is looked up on the child's {@code PATH} ({@link
 * Executables}), not on this process's.
 */
public interface CommandRunner {

  /**
   * Runs a command to completion. A non-zero exit status is returned, not thrown.
   *
   * @throws RuntimeCommandException when the command cannot be launched or exceeds its timeout
   */
  Result run(Command command) throws VmException;

  /**
   * Starts a command and returns at once. A started command is a console (a VM, a runner): its
   * standard error joins its standard output, and the lines go to the command's stdout sink in the
   * order they were written.
   *
   * @throws VmException when the process cannot be launched at all
   */
  Running start(Command command) throws VmException;

  static CommandRunner commonsExec() {
    return new CommonsExecCommandRunner();
  }

  /**
   * One command.
   *
   * @param environment the child's complete environment: nothing is inherited (see {@link
   *     ChildEnvironment})
   * @param timeout empty for no limit
   */
  record Command(
      List<String> argv,
      Map<String, String> environment,
      Optional<Path> workingDirectory,
      Optional<Duration> timeout,
      Consumer<String> stdout,
      Consumer<String> stderr) {
    public Command {
      argv = List.copyOf(argv);
      if (argv.isEmpty()) {
        throw new IllegalArgumentException("empty command");
      }
      environment = Map.copyOf(environment);
      Objects.requireNonNull(workingDirectory, "workingDirectory");
      Objects.requireNonNull(timeout, "timeout");
      Objects.requireNonNull(stdout, "stdout");
      Objects.requireNonNull(stderr, "stderr");
    }

    public static Command of(List<String> argv, Map<String, String> environment) {
      return new Command(
          argv, environment, Optional.empty(), Optional.empty(), line -> {}, line -> {});
    }

    public Command withTimeout(Duration limit) {
      return new Command(argv, environment, workingDirectory, Optional.of(limit), stdout, stderr);
    }

    public Command withWorkingDirectory(Path directory) {
      return new Command(argv, environment, Optional.of(directory), timeout, stdout, stderr);
    }

    public Command withOutput(Consumer<String> stdoutSink, Consumer<String> stderrSink) {
      return new Command(argv, environment, workingDirectory, timeout, stdoutSink, stderrSink);
    }
  }

  /** A finished command; the output lines are also kept here (the tools run so print little). */
  record Result(int exitStatus, List<String> stdout, List<String> stderr) {
    /** How many lines a tail holds. */
    public static final int TAIL_LINES = 20;

    public Result {
      stdout = List.copyOf(stdout);
      stderr = List.copyOf(stderr);
    }

    /** The last {@value #TAIL_LINES} lines of standard error, for messages. */
    public String stderrTail() {
      return tail(stderr);
    }

    /**
     * The last {@value #TAIL_LINES} lines of standard output, for tools that report errors there.
     */
    public String stdoutTail() {
      return tail(stdout);
    }

    /** The last {@value #TAIL_LINES} of {@code lines}, one per line. */
    public static String tail(List<String> lines) {
      return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
    }
  }

  /** A started command. */
  interface Running {
    /** The OS process, when there is one (fakes may have none). */
    Optional<ProcessHandle> process();

    /**
     * The exit status once the process ended and every output line was delivered, or empty when
     * that did not happen within {@code timeout}.
     */
    Optional<Integer> awaitExit(Duration timeout) throws InterruptedException;

    /** {@link #awaitExit(Duration)} for as long as it takes. */
    default int awaitExit() throws InterruptedException {
      while (true) {
        Optional<Integer> status = awaitExit(Duration.ofDays(1));
        if (status.isPresent()) {
          return status.get();
        }
      }
    }

    Optional<Integer> exitStatus();

    /**
     * Waits up to {@code timeout} for the process itself to end, not for its output; whether it
     * did. Fakes without a process may leave it to {@link #awaitExit(Duration)}.
     */
    default boolean awaitEnd(Duration timeout) throws InterruptedException {
      return awaitExit(timeout).isPresent();
    }

    /** Kills the process (SIGKILL) without touching its children. */
    void kill();

    /**
     * Stops the process and everything it started: SIGTERM to this process only, up to {@code
     * grace} for it to end, then SIGKILL to it and to every descendant still alive. Only the top is
     * asked first, so that it can wind down its own children (actions/runner's listener cancels its
     * job; a shell runs its trap). Descendants are collected before the signal and again after the
     * wait, because once their parent ended they are re-parented and no longer found from it.
     * Returns without waiting for the output to be delivered (see {@link #awaitExit(Duration)}).
     *
     * @return whether the top ended by itself within {@code grace}; false when it had to be killed
     *     (or there is no process to signal)
     */
    default boolean terminate(Duration grace) throws InterruptedException {
      Optional<ProcessHandle> top = process();
      if (top.isEmpty()) {
        kill();
        return false;
      }
      List<ProcessHandle> tree = ProcessTree.of(top.get());
      top.get().destroy();
      boolean ended = awaitEnd(grace);
      tree.addAll(ProcessTree.of(top.get()));
      ProcessTree.kill(tree);
      return ended;
    }
  }
}
