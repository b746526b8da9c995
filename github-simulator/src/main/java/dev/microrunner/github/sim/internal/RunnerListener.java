package dev.microrunner.github.sim.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.microrunner.github.sim.SimRunnerRelease;
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
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
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

  /** Set by the distribution's {@code bin/Runner.Listener}: the version it simulates. */
  public static final String VERSION_ENV = "MICRORUNNER_SIM_RUNNER_VERSION";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, String> environment;
  private final PrintStream out;
  private final PrintStream err;
  private final Consumer<Runnable> onTermination;

  @Option(names = "--version", description = "Print the runner's version and exit.")
  boolean printVersion;

  private RunnerListener(
      Map<String, String> environment,
      PrintStream out,
      PrintStream err,
      Consumer<Runnable> onTermination) {
    this.environment = environment;
    this.out = out;
    this.err = err;
    this.onTermination = onTermination;
  }

  /** See {@link SimulatedRunner#execute}. */
  public static int execute(
      String[] args,
      Map<String, String> environment,
      PrintStream out,
      PrintStream err,
      Consumer<Runnable> onTermination) {
    RunnerListener runner = new RunnerListener(environment, out, err, onTermination);
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

  /** Without a command: the version, or run if a JIT config is in the environment. */
  @Override
  public Integer call() throws Exception {
    if (printVersion) {
      out.println(version(root(null)));
      return 0;
    }
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

  /**
   * The runner's version: the distribution's, or what a simulated self-update installed in {@code
   * root}.
   */
  String version(Path root) throws IOException {
    Path updated = root.resolve(RunnerVersions.INSTALLED_VERSION_FILE);
    if (Files.isRegularFile(updated)) {
      return Files.readString(updated).strip();
    }
    return environment.getOrDefault(VERSION_ENV, SimRunnerRelease.LATEST_VERSION);
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
      settings.put("disableUpdate", disableUpdate);
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
      Path dir = runner.root(root);
      try {
        identity = jitConfig != null ? Identity.fromJit(jitConfig) : Identity.fromFiles(dir);
      } catch (IllegalArgumentException | IOException e) {
        runner.err.println("An error occurred: " + e.getMessage());
        return ListenerSession.TERMINATED_ERROR;
      }
      ListenerSession session =
          new ListenerSession(
              identity,
              dir,
              runner.version(dir),
              identity.disableUpdate(),
              runner.environment,
              runner.out,
              runner.err);
      runner.onTermination.accept(session::requestStop);
      return session.run();
    }
  }

  /** Who this runner is, from a JIT config or from the files {@code configure} wrote. */
  record Identity(
      URI server,
      long runnerId,
      String name,
      String credential,
      boolean ephemeral,
      boolean disableUpdate) {

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
          true,
          false);
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
          settings.path("ephemeral").asBoolean(),
          settings.path("disableUpdate").asBoolean());
    }

    @Override
    public String toString() {
      return "Identity[" + server + ", " + runnerId + ", " + name + "]";
    }
  }
}
