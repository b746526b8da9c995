package dev.microrunner.image.internal;

import dev.microrunner.image.CommandRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.apache.commons.exec.CommandLine;
import org.apache.commons.exec.DefaultExecuteResultHandler;
import org.apache.commons.exec.DefaultExecutor;
import org.apache.commons.exec.ExecuteWatchdog;
import org.apache.commons.exec.LogOutputStream;
import org.apache.commons.exec.PumpStreamHandler;
import org.apache.commons.exec.environment.EnvironmentUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs commands with commons-exec; output goes to the log line by line as it comes. */
public final class ExecCommandRunner implements CommandRunner {
  private static final Logger LOG = LoggerFactory.getLogger(ExecCommandRunner.class);
  private static final int STDERR_TAIL_LINES = 20;

  @Override
  public CommandResult run(List<String> argv, Map<String, String> environment)
      throws IOException, InterruptedException {
    CommandLine commandLine = new CommandLine(argv.get(0));
    // No quoting by commons-exec: each element is one argument, exactly as given.
    argv.subList(1, argv.size()).forEach(argument -> commandLine.addArgument(argument, false));
    Map<String, String> fullEnvironment = EnvironmentUtils.getProcEnvironment();
    fullEnvironment.putAll(environment);

    String program = argv.get(0);
    List<String> stdout = new ArrayList<>();
    Deque<String> stderrTail = new ArrayDeque<>();
    LogOutputStream out =
        new LogOutputStream(0, StandardCharsets.UTF_8) {
          @Override
          protected void processLine(String line, int level) {
            synchronized (stdout) {
              stdout.add(line);
            }
            LOG.info("{}: {}", program, line);
          }
        };
    LogOutputStream err =
        new LogOutputStream(0, StandardCharsets.UTF_8) {
          @Override
          protected void processLine(String line, int level) {
            synchronized (stderrTail) {
              stderrTail.addLast(line);
              if (stderrTail.size() > STDERR_TAIL_LINES) {
                stderrTail.removeFirst();
              }
            }
            LOG.info("{}: {}", program, line);
          }
        };

    ExecuteWatchdog watchdog =
        ExecuteWatchdog.builder().setTimeout(ExecuteWatchdog.INFINITE_TIMEOUT_DURATION).get();
    DefaultExecutor executor = DefaultExecutor.builder().get();
    executor.setExitValues(null);
    executor.setWatchdog(watchdog);
    executor.setStreamHandler(new PumpStreamHandler(out, err));
    DefaultExecuteResultHandler result = new DefaultExecuteResultHandler();
    LOG.debug("running {}", argv);
    executor.execute(commandLine, fullEnvironment, result);
    try {
      result.waitFor();
    } catch (InterruptedException e) {
      watchdog.destroyProcess();
      throw e;
    }
    if (result.getException() != null) {
      Throwable cause =
          result.getException().getCause() != null
              ? result.getException().getCause()
              : result.getException();
      throw new IOException("cannot run " + program + ": " + cause.getMessage(), cause);
    }
    synchronized (stdout) {
      synchronized (stderrTail) {
        return new CommandResult(result.getExitValue(), stdout, String.join("\n", stderrTail));
      }
    }
  }
}
