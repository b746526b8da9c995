package dev.microrunner.github.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimulatedRunner;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The simulated actions/runner listener behind {@link SimulatedRunner#execute}: a picocli command
 * with {@code configure} ({@code remove}) and {@code run}, talking to the simulator's runner API
 * under {@code /_sim/runner/}.
 */
@Command(
    name = "Runner.Listener",
    description = "Simulated GitHub Actions runner for the microrunner GitHub simulator.",
    subcommands = {RunnerListener.Configure.class, RunnerListener.Run.class})
public final class RunnerListener implements Callable<Integer> {

  static final String ENV_PREFIX = "ACTIONS_RUNNER_INPUT_";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofSeconds(10);
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private final Map<String, String> environment;
  private final PrintStream out;
  private final PrintStream err;

  private RunnerListener(Map<String, String> environment, PrintStream out, PrintStream err) {
    this.environment = environment;
    this.out = out;
    this.err = err;
  }

  /** See {@link SimulatedRunner#execute}. */
  public static int execute(
      String[] args, Map<String, String> environment, PrintStream out, PrintStream err) {
    RunnerListener runner = new RunnerListener(environment, out, err);
    CommandLine commandLine = new CommandLine(runner, new Factory(runner));
    commandLine.setDefaultValueProvider(
        argument -> {
          if (argument instanceof CommandLine.Model.OptionSpec option) {
            String name =
                option
                    .longestName()
                    .replaceFirst("^--", "")
                    .toUpperCase(Locale.ROOT)
                    .replace('-', '_');
            return environment.get(ENV_PREFIX + name);
          }
          return null;
        });
    // UTF-8 whatever the JVM's default: the listener's output has non-ASCII marks, like upstream's.
    commandLine.setOut(new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true));
    commandLine.setErr(new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true));
    return commandLine.execute(args);
  }

  /** Without a command: run, if a JIT config is in the environment. */
  @Override
  public Integer call() throws Exception {
    if (environment.containsKey(ENV_PREFIX + "JITCONFIG")) {
      Run run = new Run(this);
      run.jitConfig = environment.get(ENV_PREFIX + "JITCONFIG");
      return run.call();
    }
    err.println("Runner.Listener: give a command: configure or run");
    return 1;
  }

  Path root(Path option) {
    if (option != null) {
      return option;
    }
    String fromEnv = environment.get(SimulatedRunner.ROOT_ENV);
    return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : ".")
        .toAbsolutePath()
        .normalize();
  }

  static String now() {
    return TIME.format(Instant.now());
  }

  private static final class Factory implements CommandLine.IFactory {
    private final RunnerListener runner;

    Factory(RunnerListener runner) {
      this.runner = runner;
    }

    @Override
    public <K> K create(Class<K> type) throws Exception {
      if (type == Configure.class) {
        return type.cast(new Configure(runner));
      }
      if (type == Configure.Remove.class) {
        return type.cast(new Configure.Remove(runner));
      }
      if (type == Run.class) {
        return type.cast(new Run(runner));
      }
      return CommandLine.defaultFactory().create(type);
    }
  }

  // ---- configure ---------------------------------------------------------------------------

  @Command(
      name = "configure",
      aliases = "config",
      description = "Register this runner with a registration token.",
      subcommands = Configure.Remove.class)
  static final class Configure implements Callable<Integer> {
    private final RunnerListener runner;

    @Option(names = "--url", description = "Repository, organization or enterprise URL.")
    String url;

    @Option(names = "--token", description = "Registration token (or ACTIONS_RUNNER_INPUT_TOKEN).")
    String token;

    @Option(names = "--name", description = "Runner name.")
    String name;

    @Option(names = "--labels", split = ",", description = "Extra labels.")
    List<String> labels = List.of();

    @Option(names = "--runnergroup", defaultValue = "Default")
    String runnerGroup;

    @Option(names = "--work", defaultValue = "_work")
    String work;

    @Option(names = "--ephemeral")
    boolean ephemeral;

    @Option(names = "--replace")
    boolean replace;

    @Option(names = "--no-default-labels")
    boolean noDefaultLabels;

    @Option(names = "--unattended")
    boolean unattended;

    @Option(names = "--disableupdate")
    boolean disableUpdate;

    @Option(names = "--root", description = "Runner root directory.")
    Path root;

    Configure(RunnerListener runner) {
      this.runner = runner;
    }

    @Override
    public Integer call() throws Exception {
      PrintStream out = runner.out;
      PrintStream err = runner.err;
      if (url == null || token == null) {
        err.println("Error: --url and --token are required (or ACTIONS_RUNNER_INPUT_URL/_TOKEN)");
        return 1;
      }
      Path dir = runner.root(root);
      if (Files.exists(dir.resolve(".runner"))) {
        err.println(
            "Cannot configure the runner because it is already configured. To reconfigure"
                + " the runner, run 'config.cmd remove' or './config.sh remove' first.");
        return 1;
      }
      String runnerName = name != null ? name : java.net.InetAddress.getLocalHost().getHostName();
      URI target = URI.create(url);
      ObjectNode body = JSON.createObjectNode();
      body.put("url", url);
      body.put("name", runnerName);
      labels.forEach(body.putArray("labels")::add);
      body.put("runner_group", runnerGroup);
      body.put("ephemeral", ephemeral);
      body.put("replace", replace);
      body.put("no_default_labels", noDefaultLabels);
      body.put("work", work);
      out.println();
      out.println(
          "--------------------------------------------------------------------------------");
      out.println(
          "|                   GitHub Actions (microrunner simulator)                     |");
      out.println(
          "--------------------------------------------------------------------------------");
      out.println();
      out.println("# Authentication");
      HttpResponse<String> response =
          SimHttp.post(base(target).resolve("/_sim/runner/register"), "RemoteAuth " + token, body);
      if (response.statusCode() != 201) {
        err.println(
            "Http response code: "
                + response.statusCode()
                + " from 'POST "
                + base(target)
                + "/_sim/runner/register' "
                + message(response));
        return 1;
      }
      out.println("√ Connected to GitHub");
      out.println();
      out.println("# Runner Registration");
      JsonNode registered = JSON.readTree(response.body());
      ObjectNode settings = JSON.createObjectNode();
      settings.put("agentId", registered.path("id").asLong());
      settings.put("agentName", registered.path("name").asText());
      settings.put("poolId", registered.path("runner_group_id").asLong());
      settings.put("serverUrl", base(target).toString());
      settings.put("gitHubUrl", url);
      settings.put("workFolder", work);
      settings.put("ephemeral", ephemeral);
      ObjectNode credentials = JSON.createObjectNode();
      credentials.put("scheme", "SimulatorCredential");
      credentials.putObject("data").put("credential", registered.path("credential").asText());
      Files.createDirectories(dir);
      writePrivate(dir.resolve(".credentials"), credentials.toString());
      writePrivate(dir.resolve(".runner"), settings.toString());
      out.println("√ Runner successfully added");
      out.println("√ Runner connection is good");
      out.println();
      out.println("# Runner settings");
      out.println();
      out.println("√ Settings Saved.");
      return 0;
    }

    @Command(
        name = "remove",
        description = "Remove this runner's registration with a remove token.")
    static final class Remove implements Callable<Integer> {
      private final RunnerListener runner;

      @Option(names = "--token", description = "Remove token (or ACTIONS_RUNNER_INPUT_TOKEN).")
      String token;

      @Option(names = "--root")
      Path root;

      Remove(RunnerListener runner) {
        this.runner = runner;
      }

      @Override
      public Integer call() throws Exception {
        Path dir = runner.root(root);
        Path settingsFile = dir.resolve(".runner");
        if (!Files.isRegularFile(settingsFile)) {
          runner.err.println(
              "Error: this runner is not configured (" + settingsFile + " is missing)");
          return 1;
        }
        if (token == null) {
          runner.err.println("Error: --token is required (or ACTIONS_RUNNER_INPUT_TOKEN)");
          return 1;
        }
        JsonNode settings = JSON.readTree(Files.readString(settingsFile));
        ObjectNode body = JSON.createObjectNode();
        body.put("id", settings.path("agentId").asLong());
        body.put("url", settings.path("gitHubUrl").asText());
        URI server = URI.create(settings.path("serverUrl").asText());
        runner.out.println("# Runner removal");
        HttpResponse<String> response =
            SimHttp.post(server.resolve("/_sim/runner/unregister"), "RemoteAuth " + token, body);
        if (response.statusCode() != 204 && response.statusCode() != 404) {
          runner.err.println(
              "Http response code: " + response.statusCode() + " " + message(response));
          return 1;
        }
        Files.deleteIfExists(dir.resolve(".credentials"));
        Files.deleteIfExists(settingsFile);
        runner.out.println("√ Runner removed successfully");
        runner.out.println("√ Removed .credentials");
        runner.out.println("√ Removed .runner");
        return 0;
      }
    }
  }

  private static URI base(URI url) {
    return URI.create(url.getScheme() + "://" + url.getRawAuthority());
  }

  private static String message(HttpResponse<String> response) {
    try {
      return JSON.readTree(response.body()).path("message").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  private static void writePrivate(Path file, String content) throws IOException {
    AtomicFiles.write(file, content, "rw-------");
  }

  // ---- run ---------------------------------------------------------------------------------

  @Command(name = "run", description = "Connect and run jobs (one, when ephemeral).")
  static final class Run implements Callable<Integer> {
    private final RunnerListener runner;

    @Option(
        names = "--jitconfig",
        description = "Just-in-time configuration (or ACTIONS_RUNNER_INPUT_JITCONFIG).")
    String jitConfig;

    @Option(names = "--root")
    Path root;

    Run(RunnerListener runner) {
      this.runner = runner;
    }

    @Override
    public Integer call() throws Exception {
      Identity identity;
      try {
        identity =
            jitConfig != null ? Identity.fromJit(jitConfig) : Identity.fromFiles(runner.root(root));
      } catch (IllegalArgumentException | IOException e) {
        runner.err.println("Error: " + e.getMessage());
        return 1;
      }
      return new Session(identity, runner.out, runner.err).run();
    }
  }

  /** Who this runner is, from a JIT config or from the files {@code configure} wrote. */
  record Identity(URI server, long runnerId, String name, String credential, boolean ephemeral) {

    static Identity fromJit(String encoded) {
      JsonNode config;
      try {
        config = JSON.readTree(Base64.getDecoder().decode(encoded.strip()));
      } catch (IllegalArgumentException | IOException e) {
        throw new IllegalArgumentException(
            "the JIT config is not base64-encoded JSON from the simulator");
      }
      if (!config.path("sim_url").isTextual() || !config.path("credential").isTextual()) {
        throw new IllegalArgumentException(
            "the JIT config does not name a simulator and a credential");
      }
      return new Identity(
          URI.create(config.path("sim_url").asText()),
          config.path("runner_id").asLong(),
          config.path("runner_name").asText(),
          config.path("credential").asText(),
          true);
    }

    static Identity fromFiles(Path root) throws IOException {
      Path settingsFile = root.resolve(".runner");
      Path credentialsFile = root.resolve(".credentials");
      if (!Files.isRegularFile(settingsFile) || !Files.isRegularFile(credentialsFile)) {
        throw new IllegalArgumentException(
            "not configured: run config.sh first (no " + settingsFile + "), or pass a JIT config");
      }
      JsonNode settings = JSON.readTree(Files.readString(settingsFile));
      JsonNode credentials = JSON.readTree(Files.readString(credentialsFile));
      return new Identity(
          URI.create(settings.path("serverUrl").asText()),
          settings.path("agentId").asLong(),
          settings.path("agentName").asText(),
          credentials.path("data").path("credential").asText(),
          settings.path("ephemeral").asBoolean());
    }

    @Override
    public String toString() {
      return "Identity[" + server + ", " + runnerId + ", " + name + "]";
    }
  }

  /** One listener session: connect, take jobs, finish; SIGTERM disconnects. */
  private static final class Session {
    private final Identity identity;
    private final PrintStream out;
    private final PrintStream err;
    private final AtomicBoolean finished = new AtomicBoolean();

    Session(Identity identity, PrintStream out, PrintStream err) {
      this.identity = identity;
      this.out = out;
      this.err = err;
    }

    int run() throws IOException, InterruptedException {
      Thread main = Thread.currentThread();
      Thread hook = new Thread(() -> onTermination(main), "sim-runner-sigterm");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        return listen();
      } catch (InterruptedException e) {
        return 143;
      } finally {
        finished.set(true);
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // The JVM is exiting because of a signal; the hook does the rest.
        }
      }
    }

    private int listen() throws IOException, InterruptedException {
      HttpResponse<String> connected = call("POST", "/_sim/runner/connect");
      if (connected.statusCode() != 200) {
        err.println(
            now()
                + ": Failed to connect (HTTP "
                + connected.statusCode()
                + "): "
                + message(connected));
        return 1;
      }
      out.println("√ Connected to GitHub");
      out.println();
      out.println("Current runner version: '2.999.0-sim'");
      out.println(now() + ": Listening for Jobs");
      while (true) {
        HttpResponse<String> polled = call("GET", "/_sim/runner/jobs?wait_ms=" + POLL.toMillis());
        if (polled.statusCode() == 204) {
          continue;
        }
        if (polled.statusCode() != 200) {
          err.println(
              now()
                  + ": Runner registration was removed or rejected (HTTP "
                  + polled.statusCode()
                  + ")");
          return 1;
        }
        JsonNode job = JSON.readTree(polled.body());
        String jobName = job.path("name").asText();
        out.println(now() + ": Running job: " + jobName);
        Thread.sleep(job.path("duration_ms").asLong());
        ObjectNode result = JSON.createObjectNode().put("result", "Succeeded");
        HttpResponse<String> completed =
            SimHttp.send(
                "POST",
                identity
                    .server()
                    .resolve("/_sim/runner/jobs/" + job.path("id").asLong() + "/complete"),
                "Bearer " + identity.credential(),
                result);
        if (completed.statusCode() != 204) {
          err.println(
              now()
                  + ": Job "
                  + jobName
                  + " could not be reported (HTTP "
                  + completed.statusCode()
                  + ")");
          return 1;
        }
        out.println(now() + ": Job " + jobName + " completed with result: Succeeded");
        if (identity.ephemeral()) {
          return 0;
        }
      }
    }

    private HttpResponse<String> call(String method, String path)
        throws IOException, InterruptedException {
      return SimHttp.send(
          method, identity.server().resolve(path), "Bearer " + identity.credential(), null);
    }

    /** SIGTERM or SIGINT: go offline and let the JVM exit. */
    private void onTermination(Thread main) {
      if (finished.get()) {
        return;
      }
      main.interrupt();
      try {
        SimHttp.send(
            "POST",
            identity.server().resolve("/_sim/runner/disconnect"),
            "Bearer " + identity.credential(),
            null);
      } catch (IOException | InterruptedException e) {
        // Exiting anyway; the simulator shows the runner online until it is removed.
      }
      out.println(now() + ": Runner listener exited: termination requested");
      out.flush();
    }
  }
}
