package dev.microrunner.github.sim.internal;

import static dev.microrunner.github.sim.internal.Json.JSON;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One run of the simulated listener, with upstream's observable behaviour (actions/runner v2.336.0,
 * {@code src/Runner.Listener/Program.cs}, {@code Runner.cs}, {@code JobDispatcher.cs}, {@code
 * Runner.Worker/JobExtension.cs}):
 *
 * <ul>
 *   <li>exit statuses: 0 done (or stopped), 1 terminated (registration gone, a refused version
 *       without {@code ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE}), 2 retryable (GitHub
 *       unreachable), 3 or 4 (ephemeral) updating, 5 session conflict, 7 refused version with that
 *       variable set;
 *   <li>the terminal lines {@code Listening for Jobs}, {@code Running job: NAME} and {@code Job
 *       NAME completed with result: RESULT}, each after a {@code yyyy-MM-dd HH:mm:ssZ: } time;
 *   <li>a termination request (SIGINT or SIGTERM, forwarded by the process's entry point) cancels a
 *       running job, which takes the job's cancel time, reports it {@code Canceled} and exits 0;
 *       after {@link #UNLOAD_TIMEOUT} the listener gives up waiting, as upstream's SIGTERM handler
 *       does; an idle listener goes offline and exits 0 at once;
 *   <li>an update message makes it "update" itself (the new version is recorded in the runner root,
 *       with {@code update.finished}) and exit 4, or 3 when not ephemeral;
 *   <li>{@code ACTIONS_RUNNER_HOOK_JOB_STARTED} and {@code _COMPLETED} scripts run around each job;
 *   <li>diagnostic trace lines go to {@code _diag/Runner_*.log}, or to stdout as {@code [RUNNER
 *       time INFO source] message} with {@code ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT}.
 * </ul>
 */
final class ListenerSession {

  static final int SUCCESS = 0;
  static final int TERMINATED_ERROR = 1;
  static final int RETRYABLE_ERROR = 2;
  static final int RUNNER_UPDATING = 3;
  static final int RUN_ONCE_RUNNER_UPDATING = 4;
  static final int SESSION_CONFLICT = 5;
  static final int RUNNER_VERSION_DEPRECATED = 7;

  /** Upstream's {@code Constants.Runner.ExitOnUnloadTimeout}. */
  static final Duration UNLOAD_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration POLL = Duration.ofSeconds(10);
  private static final DateTimeFormatter TERMINAL_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter LOG_FILE_TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  private final RunnerListener.Identity identity;
  private final Path root;
  private final String version;
  private final boolean disableUpdate;
  private final Map<String, String> environment;
  private final PrintStream out;
  private final PrintStream err;
  private final Path diagFile;
  private final boolean traceToStdout;

  private final Object lock = new Object();
  private boolean stopRequested;
  private long stopDeadlineNanos;
  private boolean ended;

  ListenerSession(
      RunnerListener.Identity identity,
      Path root,
      String version,
      boolean disableUpdate,
      Map<String, String> environment,
      PrintStream out,
      PrintStream err) {
    this.identity = identity;
    this.root = root;
    this.version = version;
    this.disableUpdate = disableUpdate;
    this.environment = environment;
    this.out = out;
    this.err = err;
    this.traceToStdout = isTrue(environment.get("ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT"));
    this.diagFile =
        root.resolve("_diag").resolve("Runner_" + LOG_FILE_TIME.format(Instant.now()) + "-utc.log");
  }

  /**
   * The process was asked to end (SIGINT, SIGTERM): cancel the job, go offline. Called on the
   * signal's thread; the listener's own thread does the work and returns the exit status.
   */
  void requestStop() {
    synchronized (lock) {
      if (stopRequested || ended) {
        return;
      }
      stopRequested = true;
      stopDeadlineNanos = System.nanoTime() + UNLOAD_TIMEOUT.toNanos();
      lock.notifyAll();
    }
    out.println("Exiting...");
    trace("Runner", "Received termination signal, stop Runner.Listener and Runner.Worker.");
  }

  int run() throws InterruptedException {
    try {
      return listen();
    } finally {
      synchronized (lock) {
        ended = true;
      }
    }
  }

  private int listen() throws InterruptedException {
    trace("Runner", "Version: " + version);
    HttpResponse<String> connected;
    try {
      ObjectNode hello =
          JSON.createObjectNode().put("version", version).put("disable_update", disableUpdate);
      connected = call("POST", "/_sim/runner/connect", hello);
    } catch (IOException e) {
      return error("Failed to connect to GitHub: " + e.getMessage(), RETRYABLE_ERROR);
    }
    switch (connected.statusCode()) {
      case 200 -> {}
      case 403 -> {
        return error(
            message(connected),
            isTrue(environment.get("ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE"))
                ? RUNNER_VERSION_DEPRECATED
                : TERMINATED_ERROR);
      }
      case 404 -> {
        return error("Runner not found: " + message(connected), TERMINATED_ERROR);
      }
      case 409 -> {
        return error(message(connected), SESSION_CONFLICT);
      }
      default -> {
        return error(
            "GitHub answered " + connected.statusCode() + ": " + message(connected),
            RETRYABLE_ERROR);
      }
    }
    out.println("√ Connected to GitHub");
    out.println();
    out.println("Current runner version: '" + version + "'");
    terminal("Listening for Jobs");
    try {
      return listenForMessages();
    } finally {
      // Upstream's Runner.RunAsync deletes its session however the listener ends.
      disconnect();
    }
  }

  private int listenForMessages() throws InterruptedException {
    while (true) {
      if (stopRequested()) {
        return SUCCESS;
      }
      HttpResponse<String> polled;
      try {
        polled = pollForMessage();
      } catch (IOException e) {
        return error("Get next message failed: " + e.getMessage(), RETRYABLE_ERROR);
      }
      if (polled == null) {
        continue; // a stop request came during the poll
      }
      if (polled.statusCode() == 204) {
        continue;
      }
      if (polled.statusCode() == 404) {
        return error(
            "Runner registration was removed or rejected (HTTP 404): " + message(polled),
            TERMINATED_ERROR);
      }
      if (polled.statusCode() != 200) {
        return error("Get next message failed with HTTP " + polled.statusCode(), RETRYABLE_ERROR);
      }
      JsonNode message = readJson(polled.body());
      if (message.path("type").asText().equals("update")) {
        return selfUpdate(message.path("version").asText());
      }
      int status = runJob(message);
      if (status >= 0) {
        return status;
      }
    }
  }

  /** The next message, or null when a stop request ended the wait first. */
  private HttpResponse<String> pollForMessage() throws IOException, InterruptedException {
    CompletableFuture<HttpResponse<String>> poll =
        SimHttp.sendAsync(
            "GET",
            identity.server().resolve("/_sim/runner/jobs?wait_ms=" + POLL.toMillis()),
            "Bearer " + identity.credential(),
            null);
    // The wake-up only: the wait below checks the poll itself, which is done before this runs.
    var unused =
        poll.whenComplete(
            (response, failure) -> {
              synchronized (lock) {
                lock.notifyAll();
              }
            });
    synchronized (lock) {
      while (!poll.isDone() && !stopRequested) {
        lock.wait();
      }
    }
    if (!poll.isDone()) {
      poll.cancel(true);
      return null;
    }
    try {
      return poll.get();
    } catch (ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * Runs one job to its end or its cancellation and reports it. Returns the exit status when the
   * listener is done, -1 to listen on (a runner that is not ephemeral).
   */
  private int runJob(JsonNode job) throws InterruptedException {
    long jobId = job.path("id").asLong();
    String name = job.path("name").asText();
    Duration duration = Duration.ofMillis(job.path("duration_ms").asLong());
    Duration cancelTime = Duration.ofMillis(job.path("cancel_ms").asLong());
    terminal("Running job: " + name);
    trace("JobDispatcher", "Job request " + jobId + " for plan " + name + " received.");
    String result = runHook("ACTIONS_RUNNER_HOOK_JOB_STARTED") ? "Succeeded" : "Failed";
    boolean cancelled = result.equals("Succeeded") && !awaitJob(duration);
    if (cancelled) {
      result = "Canceled";
      trace("JobDispatcher", "Send job cancellation message to worker for job " + jobId + ".");
      try {
        call("POST", "/_sim/runner/jobs/" + jobId + "/cancelling", null);
      } catch (IOException e) {
        trace("JobDispatcher", "Could not tell GitHub about the cancellation: " + e.getMessage());
      }
      if (!awaitCancellation(cancelTime)) {
        // Upstream's SIGTERM handler stops waiting; the process ends with the job unreported.
        trace("Runner", "Runner did not finish within the unload timeout.");
        return 143;
      }
    }
    runHook("ACTIONS_RUNNER_HOOK_JOB_COMPLETED");
    HttpResponse<String> completed;
    try {
      completed =
          call(
              "POST",
              "/_sim/runner/jobs/" + jobId + "/complete",
              JSON.createObjectNode().put("result", result));
    } catch (IOException e) {
      return error("Job " + name + " could not be reported: " + e.getMessage(), RETRYABLE_ERROR);
    }
    if (completed.statusCode() != 204) {
      return error(
          "Job " + name + " could not be reported (HTTP " + completed.statusCode() + ")",
          TERMINATED_ERROR);
    }
    terminal("Job " + name + " completed with result: " + result);
    if (identity.ephemeral() || cancelled) {
      return SUCCESS;
    }
    return -1;
  }

  /** Waits out the job; false when a stop request came first. */
  private boolean awaitJob(Duration duration) throws InterruptedException {
    long end = System.nanoTime() + duration.toNanos();
    synchronized (lock) {
      while (!stopRequested) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return true;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return false;
    }
  }

  /** The worker cancels the job; false when the unload timeout cut it short. */
  private boolean awaitCancellation(Duration cancelTime) throws InterruptedException {
    long end = System.nanoTime() + cancelTime.toNanos();
    long deadline;
    synchronized (lock) {
      deadline = stopDeadlineNanos;
    }
    if (end - deadline > 0) {
      TimeUnit.NANOSECONDS.sleep(Math.max(0, deadline - System.nanoTime()));
      return false;
    }
    TimeUnit.NANOSECONDS.sleep(Math.max(0, end - System.nanoTime()));
    return true;
  }

  /**
   * What upstream's self-updater does for an ephemeral runner, without the download: the new
   * version is recorded, then {@code update.finished} tells run-helper.sh to start it.
   */
  private int selfUpdate(String newVersion) {
    out.println("Runner update in progress, do not shutdown runner.");
    out.println("Downloading " + newVersion + " runner");
    trace("SelfUpdater", "Updating runner from " + version + " to " + newVersion);
    try {
      AtomicFiles.write(
          root.resolve(RunnerVersions.INSTALLED_VERSION_FILE), newVersion + "\n", "rw-r--r--");
      AtomicFiles.write(root.resolve("update.finished"), "", "rw-r--r--");
    } catch (IOException e) {
      return error("Runner update failed: " + e.getMessage(), TERMINATED_ERROR);
    }
    return identity.ephemeral() ? RUN_ONCE_RUNNER_UPDATING : RUNNER_UPDATING;
  }

  /** Runs the hook script named by {@code variable}, if set; false when it failed. */
  private boolean runHook(String variable) throws InterruptedException {
    String script = environment.get(variable);
    if (script == null || script.isBlank()) {
      return true;
    }
    trace("JobHookProvider", "Running hook " + script);
    try {
      Process hook =
          new ProcessBuilder(List.of("sh", "-e", script))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return hook.waitFor() == 0;
    } catch (IOException e) {
      trace("JobHookProvider", "Hook " + script + " failed to start: " + e.getMessage());
      return false;
    }
  }

  private boolean stopRequested() {
    synchronized (lock) {
      return stopRequested;
    }
  }

  private void disconnect() {
    try {
      call("POST", "/_sim/runner/disconnect", null);
    } catch (IOException | InterruptedException e) {
      // Exiting anyway; GitHub shows the runner online until its session times out.
      trace("Runner", "Could not delete the session: " + e.getMessage());
    }
  }

  private HttpResponse<String> call(String method, String path, JsonNode body)
      throws IOException, InterruptedException {
    return SimHttp.send(
        method, identity.server().resolve(path), "Bearer " + identity.credential(), body);
  }

  /** Upstream's Program.cs: {@code An error occurred: MESSAGE} on stderr, then the status. */
  private int error(String message, int status) {
    err.println("An error occurred: " + message);
    trace("Runner", "Runner execution has finished with return code " + status);
    return status;
  }

  private void terminal(String line) {
    out.println(TERMINAL_TIME.format(Instant.now()) + ": " + line);
  }

  private void trace(String source, String message) {
    String line = "[" + TERMINAL_TIME.format(Instant.now()) + " INFO " + source + "] " + message;
    if (traceToStdout) {
      out.println("[RUNNER " + line.substring(1));
      return;
    }
    try {
      Files.createDirectories(diagFile.getParent());
      Files.writeString(
          diagFile,
          line + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      // The diagnostic log is best effort, as upstream's.
    }
  }

  private static JsonNode readJson(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return JSON.createObjectNode();
    }
  }

  private static String message(HttpResponse<String> response) {
    return readJson(response.body()).path("message").asText("");
  }

  /** Upstream's {@code StringUtil.ConvertToBoolean}: {@code 1}, {@code true}, {@code $true}. */
  static boolean isTrue(String value) {
    return value != null
        && List.of("1", "true", "$true").contains(value.trim().toLowerCase(Locale.ROOT));
  }
}
