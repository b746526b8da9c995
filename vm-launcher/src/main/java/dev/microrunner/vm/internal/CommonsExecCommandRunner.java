package dev.microrunner.vm.internal;

import dev.microrunner.vm.CommandRunner;
import dev.microrunner.vm.RuntimeCommandException;
import dev.microrunner.vm.VmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteException;
import org.apache.commons.exec.ExecuteResultHandler;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.LogOutputStream;
import org.apache.commons.exec.PumpStreamHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link CommandRunner} over Apache Commons Exec. */
public final class CommonsExecCommandRunner implements CommandRunner {
  private static final Logger LOG = LoggerFactory.getLogger(CommonsExecCommandRunner.class);

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
      started.process.thenAccept(Process::destroyForcibly);
      Thread.currentThread().interrupt();
      throw new VmException("interrupted while running " + command.argv().get(0), e);
    }
    if (started.watchdog.killedProcess()) {
      throw new RuntimeCommandException(
          "timed out after " + command.timeout().orElseThrow(),
          command.argv(),
          null,
          OutputTail.of(List.copyOf(stderr)));
    }
    ExecuteException failure = started.resultHandler.getException();
    if (failure != null) {
      throw new RuntimeCommandException(
          "could not run", command.argv(), null, String.valueOf(failure.getCause()));
    }
    return new Result(started.resultHandler.getExitValue(), stdout, stderr);
  }

  @Override
  public Running start(Command command) throws VmException {
    Started started = launch(command);
    Process process;
    try {
      process = started.process.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new VmException("interrupted while starting " + command.argv().get(0), e);
    } catch (ExecutionException e) {
      throw new RuntimeCommandException(
          "could not launch", command.argv(), null, String.valueOf(e.getCause().getMessage()));
    }
    return new ProcessRunning(process, started.resultHandler);
  }

  private static Started launch(Command command) throws VmException {
    CompletableFuture<Process> processFuture = new CompletableFuture<>();
    DefaultExecutor executor =
        new DefaultExecutor() {
          @Override
          protected Process launch(CommandLine line, Map<String, String> env, Path dir)
              throws IOException {
            try {
              Process process = super.launch(line, env, dir);
              processFuture.complete(process);
              return process;
            } catch (IOException | RuntimeException e) {
              processFuture.completeExceptionally(e);
              throw e;
            }
          }
        };
    command.workingDirectory().ifPresent(dir -> executor.setWorkingDirectory(dir.toFile()));
    executor.setExitValues(null);
    executor.setStreamHandler(
        new PumpStreamHandler(new LineStream(command.stdout()), new LineStream(command.stderr())));
    ExecuteWatchdog watchdog =
        ExecuteWatchdog.builder()
            .setTimeout(command.timeout().orElse(ExecuteWatchdog.INFINITE_TIMEOUT_DURATION))
            .get();
    executor.setWatchdog(watchdog);
    CommandLine line = new CommandLine(command.argv().get(0));
    for (String argument : command.argv().subList(1, command.argv().size())) {
      line.addArgument(argument, false);
    }
    ResultHandler resultHandler = new ResultHandler(processFuture);
    try {
      executor.execute(line, command.environment(), resultHandler);
    } catch (IOException e) {
      throw new RuntimeCommandException("could not launch", command.argv(), null, e.getMessage());
    }
    return new Started(processFuture, resultHandler, watchdog);
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

    boolean hasResult() {
      return exit.isDone();
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

    void waitFor(Duration timeout) throws InterruptedException {
      try {
        exit.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        // the caller looks at hasResult()
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
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

  private static final class ProcessRunning implements Running {
    private final Process process;
    private final ResultHandler resultHandler;

    ProcessRunning(Process process, ResultHandler resultHandler) {
      this.process = process;
      this.resultHandler = resultHandler;
    }

    @Override
    public Optional<ProcessHandle> process() {
      return Optional.of(process.toHandle());
    }

    @Override
    public Optional<Integer> awaitExit(Duration timeout) throws InterruptedException {
      // The result handler fires after the output pumps drained: every console line is delivered.
      resultHandler.waitFor(timeout);
      return exitStatus();
    }

    @Override
    public Optional<Integer> exitStatus() {
      return resultHandler.hasResult()
          ? Optional.of(resultHandler.getExitValue())
          : Optional.empty();
    }

    @Override
    public void kill() {
      process.destroyForcibly();
    }
  }
}
