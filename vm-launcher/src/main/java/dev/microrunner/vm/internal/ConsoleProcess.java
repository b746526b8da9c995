package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner.Command;
import dev.microrunner.vm.CommandRunner.Running;
import dev.microrunner.vm.RuntimeCommandException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started process whose standard error joins its standard output in one pipe, read by one pooled
 * thread: a console (a VM, the agent's runner) costs that reader and the JDK's reaper thread
 * instead of commons-exec's three threads (one waiting for the exit, two pumps), which with fifty
 * loops was a hundred thread stacks more in the orchestrator. commons-exec cannot merge the two
 * streams, hence the JDK's ProcessBuilder here.
 *
 * <p>Whoever awaits the exit waits for it with {@link Process#waitFor}, never through {@link
 * Process#onExit()}: the JDK completes that future on the thread that also hands the pipe's rest to
 * the stream, which blocks while this reader is in a read; with a process left behind that holds
 * the pipe open, every later stage of that future waits as long. The exit is reported once the
 * output was read to its end, or {@link #DRAIN} after the process ended if something it left behind
 * still holds the pipe: then the rest of the output is not waited for, so that an orphan cannot
 * keep its VM's end from being seen.
 */
final class ConsoleProcess implements Running {
  private static final Logger LOG = LoggerFactory.getLogger(ConsoleProcess.class);

  /** How long the output may go on after the process ended. */
  static final Duration DRAIN = Duration.ofSeconds(2);

  private final Process process;

  /** Completed by the reader at the output's end. */
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  private volatile long endSeenNanos;
  private volatile boolean outputAbandoned;

  private ConsoleProcess(Process process, Consumer<String> sink, ExecutorService threads) {
    this.process = process;
    threads.execute(() -> pump(process.getInputStream(), sink));
  }

  /**
   * Starts {@code command}; its output lines, standard error among them, go to its stdout sink.
   *
   * @param program the program's absolute path
   */
  static ConsoleProcess start(Command command, String program, ExecutorService threads)
      throws RuntimeCommandException {
    List<String> argv = new ArrayList<>(command.argv());
    argv.set(0, program);
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    builder.environment().clear();
    builder.environment().putAll(command.environment());
    command.workingDirectory().ifPresent(directory -> builder.directory(directory.toFile()));
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new RuntimeCommandException("could not launch", command.argv(), null, e.getMessage());
    }
    try {
      process.getOutputStream().close(); // no input: a child that reads it sees its end
    } catch (IOException e) {
      LOG.debug("closing the input of pid {} failed: {}", process.pid(), e.toString());
    }
    return new ConsoleProcess(process, command.stdout(), threads);
  }

  private void pump(InputStream output, Consumer<String> sink) {
    boolean listenerFailed = false;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(output, StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (outputAbandoned) {
          continue; // reported as ended already; keep the pipe from filling up
        }
        try {
          sink.accept(line);
        } catch (RuntimeException e) {
          // A failing listener must not stop the reader: the child would block on a full pipe.
          if (!listenerFailed) {
            listenerFailed = true;
            LOG.warn("output listener failed; later failures of this process are not logged", e);
          }
        }
      }
    } catch (IOException e) {
      LOG.debug("output of pid {} ended: {}", process.pid(), e.toString());
    } finally {
      drained.complete(null);
    }
  }

  @Override
  public Optional<ProcessHandle> process() {
    return Optional.of(process.toHandle());
  }

  @Override
  public boolean awaitEnd(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (!awaitEnd(timeout)) {
      return Optional.empty();
    }
    return reported(deadline);
  }

  @Override
  public Optional<Integer> exitStatus() {
    if (process.isAlive()) {
      return Optional.empty();
    }
    try {
      return reported(System.nanoTime());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** The process ended: its status once the output ended too or the drain time is over. */
  private Optional<Integer> reported(long deadline) throws InterruptedException {
    long now = System.nanoTime();
    if (endSeenNanos == 0) {
      endSeenNanos = now;
    }
    long drainEnd = endSeenNanos + DRAIN.toNanos();
    try {
      drained.get(Math.max(0, Math.min(deadline, drainEnd) - now), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      if (System.nanoTime() - drainEnd < 0) {
        return Optional.empty();
      }
      if (!outputAbandoned) {
        outputAbandoned = true;
        LOG.warn(
            "pid {} ended, but something it left behind still holds its output open after {} ms;"
                + " not waiting for the rest",
            process.pid(),
            DRAIN.toMillis());
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("reading the output of pid " + process.pid(), e);
    }
    return Optional.of(process.exitValue());
  }

  @Override
  public void kill() {
    process.destroyForcibly();
  }
}
