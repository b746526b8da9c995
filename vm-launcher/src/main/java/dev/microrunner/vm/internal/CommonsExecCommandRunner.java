package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.Executables;
import dev.microrunner.vm.RuntimeCommandException;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteResultHandler;
import org.apache.commons.exec.ExecuteStreamHandler;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.Executor;
import org.apache.commons.exec.LogOutputStream;
import org.apache.commons.exec.ProcessDestroyer;
import org.apache.commons.exec.PumpStreamHandler;
import org.apache.commons.exec.StreamPumper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CommandRunner}: commands run to completion over Apache Commons Exec (separate output and
 * error, timeouts); started commands, which are consoles, over {@link ConsoleProcess}.
 */
public final class CommonsExecCommandRunner implements CommandRunner {
  private static final Logger LOG = LoggerFactory.getLogger(CommonsExecCommandRunner.class);

  /**
   * Runs commands and pumps their output. Creating three threads per command cost about a fifth of
   * a millisecond of every VM start; idle threads end after a minute. Daemon threads: a library
   * must not keep the JVM alive (runtimes stop their VMs on close).
   */
  private static final ThreadFactory THREAD_FACTORY =
      new ThreadFactory() {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable task) {
          Thread thread = new Thread(task, "microrunner-exec-" + count.incrementAndGet());
          thread.setDaemon(true);
          return thread;
        }
      };

  /** Also the factory of a timeout's watchdog thread, which commons-exec creates per command. */
  private static final ExecutorService THREADS = Executors.newCachedThreadPool(THREAD_FACTORY);

  @Override
  public Result run(Command command) throws VmException {
    List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    Command collecting =
        command.withOutput(
            line -> {
              stdout.add(line);
              command.stdout().accept(line);
            },
            line -> {
              stderr.add(line);
              command.stderr().accept(line);
            });
    Started started = launch(collecting);
    try {
      started.resultHandler.waitFor();
    } catch (InterruptedException e) {
      // Once (if) the launch completes, its process is killed: nobody waits for it any more.
      var unused = started.process.thenAccept(Process::destroyForcibly);
      Thread.currentThread().interrupt();
      throw new VmException("interrupted while running " + command.argv().get(0), e);
    }
    if (started.watchdog.killedProcess()) {
      throw new RuntimeCommandException(
          "timed out after " + command.timeout().orElseThrow(),
          command.argv(),
          null,
          Result.tail(List.copyOf(stderr)));
    }
    ExecuteException failure = started.resultHandler.getException();
    if (failure != null) {
      throw new RuntimeCommandException(
          "could not run", command.argv(), null, String.valueOf(failure.getCause()));
    }
    return new Result(started.resultHandler.getExitValue(), stdout, stderr);
  }

  /** Over {@link ConsoleProcess}: standard error joins standard output, read by one thread. */
  @Override
  public Running start(Command command) throws VmException {
    return ConsoleProcess.start(command, program(command), THREADS);
  }

  private static Started launch(Command command) throws VmException {
    CompletableFuture<Process> processFuture = new CompletableFuture<>();
    DefaultExecutor.Builder<?> builder =
        DefaultExecutor.builder()
            .setExecuteStreamHandler(
                new PooledPumpStreamHandler(
                    new LineStream(command.stdout()), new LineStream(command.stderr())));
    command.workingDirectory().ifPresent(builder::setWorkingDirectory);
    DefaultExecutor executor = builder.get();
    executor.setExitValues(null);
    executor.setProcessDestroyer(new HandOver(processFuture));
    ExecuteWatchdog watchdog =
        ExecuteWatchdog.builder()
            .setThreadFactory(THREAD_FACTORY)
            .setTimeout(command.timeout().orElse(ExecuteWatchdog.INFINITE_TIMEOUT_DURATION))
            .get();
    executor.setWatchdog(watchdog);
    CommandLine line = new CommandLine(program(command));
    for (String argument : command.argv().subList(1, command.argv().size())) {
      line.addArgument(argument, false);
    }
    ResultHandler resultHandler = new ResultHandler(processFuture);
    // The synchronous execute on a pooled thread rather than the asynchronous one, which creates
    // a thread per command: with the two pumps below, that was three new threads per VM start.
    THREADS.execute(
        () -> {
          try {
            resultHandler.onProcessComplete(executor.execute(line, command.environment()));
          } catch (ExecuteException e) {
            resultHandler.onProcessFailed(e);
          } catch (IOException | RuntimeException e) {
            // Before the handler does, so that start() reports the cause itself (a missing
            // working directory fails here, before launch).
            processFuture.completeExceptionally(e);
            resultHandler.onProcessFailed(
                new ExecuteException("Execution failed", Executor.INVALID_EXITVALUE, e));
          }
        });
    return new Started(processFuture, resultHandler, watchdog);
  }

  /**
   * The program as an absolute path: the JDK would look a bare name up on this process's PATH, but
   * the child's environment is the one that counts.
   */
  private static String program(Command command) throws RuntimeCommandException {
    String program = command.argv().get(0);
    if (program.contains("/")) {
      return program;
    }
    return Executables.find(program, command.environment())
        .map(Path::toString)
        .orElseThrow(
            () ->
                new RuntimeCommandException(
                    "could not launch",
                    command.argv(),
                    null,
                    program
                        + " not found on PATH "
                        + command.environment().getOrDefault("PATH", Executables.DEFAULT_PATH)));
  }

  private record Started(
      CompletableFuture<Process> process, ResultHandler resultHandler, ExecuteWatchdog watchdog) {}

  /**
   * Completes a future instead of polling: commons-exec's DefaultExecuteResultHandler sleeps in 50
   * ms steps, which would add up to 50 ms to every VM start/stop round trip.
   */
  private static final class ResultHandler implements ExecuteResultHandler {
    private final CompletableFuture<Process> process;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private volatile ExecuteException exception;

    ResultHandler(CompletableFuture<Process> process) {
      this.process = process;
    }

    @Override
    public void onProcessComplete(int exitValue) {
      exit.complete(exitValue);
    }

    @Override
    public void onProcessFailed(ExecuteException e) {
      exception = e;
      process.completeExceptionally(e);
      exit.complete(e.getExitValue());
    }

    ExecuteException getException() {
      return exception;
    }

    int getExitValue() {
      return exit.join();
    }

    void waitFor() throws InterruptedException {
      try {
        exit.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * Takes the process that commons-exec started: the executor hands it to its {@link
   * ProcessDestroyer} once the output pumps run and before it waits for the exit, and this is the
   * only way to get it without deprecated API (subclassing the executor or the watchdog needs their
   * deprecated constructors). Destroys nothing itself: stopping is the caller's.
   */
  private static final class HandOver implements ProcessDestroyer {
    private final CompletableFuture<Process> process;

    HandOver(CompletableFuture<Process> process) {
      this.process = process;
    }

    @Override
    public boolean add(Process started) {
      return process.complete(started);
    }

    @Override
    public boolean remove(Process ended) {
      return true;
    }

    @Override
    public int size() {
      return 0;
    }
  }

  /**
   * Commons-exec's own {@link StreamPumper}s, run on pooled threads: {@link PumpStreamHandler}
   * starts two new threads per command. Like it, stops only once both streams reached their end, so
   * every line has been delivered when the exit status is reported.
   */
  private static final class PooledPumpStreamHandler implements ExecuteStreamHandler {
    private final LineStream stdout;
    private final LineStream stderr;
    private InputStream processStdout;
    private InputStream processStderr;
    private final List<Future<?>> pumps = new ArrayList<>(2);

    PooledPumpStreamHandler(LineStream stdout, LineStream stderr) {
      this.stdout = stdout;
      this.stderr = stderr;
    }

    @Override
    public void setProcessInputStream(OutputStream stdin) throws IOException {
      stdin.close();
    }

    @Override
    public void setProcessOutputStream(InputStream stream) {
      processStdout = stream;
    }

    @Override
    public void setProcessErrorStream(InputStream stream) {
      processStderr = stream;
    }

    @Override
    public void start() {
      pumps.add(THREADS.submit(new StreamPumper(processStdout, stdout)));
      pumps.add(THREADS.submit(new StreamPumper(processStderr, stderr)));
    }

    @Override
    public void stop() throws IOException {
      boolean interrupted = false;
      for (Future<?> pump : pumps) {
        while (true) {
          try {
            pump.get();
            break;
          } catch (InterruptedException e) {
            interrupted = true;
          } catch (ExecutionException e) {
            throw new IOException("output pump failed", e.getCause());
          }
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      stdout.flush();
      stderr.flush();
    }
  }

  private static final class LineStream extends LogOutputStream {
    private final Consumer<String> sink;
    private boolean listenerFailed;

    LineStream(Consumer<String> sink) {
      super(1, StandardCharsets.UTF_8);
      this.sink = sink;
    }

    @Override
    protected void processLine(String line, int level) {
      try {
        sink.accept(line);
      } catch (RuntimeException e) {
        // A failing listener must not stop the pump: the child would block on a full pipe.
        if (!listenerFailed) {
          listenerFailed = true;
          LOG.warn("output listener failed; later failures of this stream are not logged", e);
        }
      }
    }
  }
}
