package dev.microrunner.cli;

import dev.microrunner.cli.demo.SelfLaunch;
import dev.microrunner.cli.demo.SimulatorTokens;
import dev.microrunner.cli.demo.WorkDirectory;
import dev.microrunner.github.Secret;
import dev.microrunner.github.sim.GitHubSimulator;
import dev.microrunner.github.sim.SimJob;
import dev.microrunner.github.sim.SimWebhook;
import dev.microrunner.github.sim.SimulatedRunnerDistribution;
import dev.microrunner.github.sim.SimulatorOptions;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code microrunner sim}: the GitHub simulator as a process of its own, for trying the
 * orchestrator without a GitHub account; or, with {@code --runner-dist}, a simulated actions/runner
 * distribution for the agent.
 */
@Command(
    name = "sim",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Runs the GitHub simulator on 127.0.0.1, or writes a simulated actions/runner.",
      "",
      "Serves until SIGINT or SIGTERM (exit status 0): the runner endpoints microrunner calls, a"
          + " job queue for simulated runners, and GET /_sim/state (registered runners; queued,"
          + " running and finished jobs). POST /_sim/jobs queues more jobs, POST /_sim/faults"
          + " injects rate limits, 5xx or latency.",
      "",
      "Only the repositories, organizations and enterprises named with --repo, --org and"
          + " --enterprise exist (404 for any other, as on GitHub); without any, demo/hello.",
      "",
      "Standard output: line 1 is API_URL=http://127.0.0.1:PORT. Without --token-file, a random"
          + " token is generated and written to a new file (mode 0600, in a 0700 directory,"
          + " deleted on exit) whose path is line 2: TOKEN_FILE=PATH. The token itself is never"
          + " printed. Clients authenticate with it as a GitHub token, e.g.:",
      "  microrunner orchestrator -R process -- -g API_URL -p demo/hello",
      "      --token-file PATH --entrypoint AGENT --env RUNNER_INSTALL=DIR",
      "",
      "With --runner-dist DIR it only writes a simulated actions/runner distribution (config.sh,"
          + " run.sh, bin/Runner.Listener) into DIR for the agent's RUNNER_INSTALL, prints"
          + " RUNNER_INSTALL=DIR and exits; it does not serve.",
    })
public final class SimCommand implements Callable<Integer> {

  /** The repository that exists when no repository, organization or enterprise is named. */
  static final String DEFAULT_REPOSITORY = "demo/hello";

  @Option(
      names = "--port",
      defaultValue = "0",
      description = "TCP port on 127.0.0.1; 0 (default) picks a free one.")
  int port;

  @Option(
      names = "--jobs",
      paramLabel = "N",
      defaultValue = "0",
      description = "Jobs to queue at start (default ${DEFAULT-VALUE}); more with POST /_sim/jobs.")
  int jobs;

  @Option(
      names = "--labels",
      paramLabel = "L1,L2",
      defaultValue = "self-hosted",
      description =
          "Labels of the queued jobs: a runner takes a job when it has all of them (default"
              + " ${DEFAULT-VALUE}).")
  String labels;

  @Option(
      names = "--job-duration",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description = "How long each queued job runs (default ${DEFAULT-VALUE}).")
  BigDecimal jobDuration;

  @Option(
      names = "--repo",
      paramLabel = "OWNER/REPO",
      description =
          "A repository that exists (repeatable). Only declared repositories, organizations and"
              + " enterprises exist: GitHub's endpoints answer 404 for any other. With none of"
              + " --repo, --org and --enterprise: --repo "
              + DEFAULT_REPOSITORY
              + ".")
  List<String> repositories = new ArrayList<>();

  @Option(
      names = "--org",
      paramLabel = "ORG",
      description = "An organization that exists (repeatable).")
  List<String> organizations = new ArrayList<>();

  @Option(
      names = "--enterprise",
      paramLabel = "SLUG",
      description = "An enterprise that exists (repeatable).")
  List<String> enterprises = new ArrayList<>();

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "Accept the token in FILE (repeatable) instead of generating one; nothing is printed"
              + " on line 2 then.")
  List<Path> tokenFiles = new ArrayList<>();

  @Option(
      names = "--webhook-url",
      paramLabel = "URL",
      description =
          "Send signed workflow_job webhooks, as GitHub does, to URL (e.g."
              + " http://127.0.0.1:PORT/webhook of `microrunner orchestrator --webhook`) for every"
              + " job queued, taken and completed. Needs --webhook-secret-file.")
  URI webhookUrl;

  @Option(
      names = "--webhook-secret-file",
      paramLabel = "FILE",
      description = "The secret the webhooks are signed with: the file's one line.")
  Path webhookSecretFile;

  @Option(
      names = "--runner-dist",
      paramLabel = "DIR",
      description = "Write a simulated actions/runner distribution into DIR and exit.")
  Path runnerDistribution;

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    logging.apply("SIM", System.getenv());
    PrintWriter out = spec.commandLine().getOut();
    if (runnerDistribution != null) {
      Path dir = runnerDistribution.toAbsolutePath();
      SimulatedRunnerDistribution.write(
          dir, SelfLaunch.java(), SelfLaunch.classPath(), SimulatedRunnerMain.class.getName());
      out.println("RUNNER_INSTALL=" + dir);
      out.flush();
      return ExitCodes.OK;
    }
    if (jobs < 0) {
      throw new IllegalArgumentException("--jobs must be 0 or more, not " + jobs);
    }
    Duration duration = durationOf(jobDuration, "--job-duration");
    List<String> jobLabels =
        Arrays.stream(labels.split(",")).map(String::trim).filter(l -> !l.isEmpty()).toList();
    List<String> tokens = new ArrayList<>();
    for (Path file : tokenFiles) {
      tokens.add(SimulatorTokens.read(file));
    }
    CountDownLatch stop = new CountDownLatch(1);
    Signals.onTermination(skipGrace -> stop.countDown());
    try (WorkDirectory work = tokens.isEmpty() ? WorkDirectory.create("microrunner-sim") : null;
        GitHubSimulator sim = GitHubSimulator.start(SimulatorOptions.defaults().withPort(port))) {
      List<String> declared = declareScopes(sim);
      out.println("API_URL=" + sim.apiUrl());
      if (work != null) {
        String token = SimulatorTokens.generate();
        Path file = SimulatorTokens.write(work.resolve("token"), token);
        tokens.add(token);
        out.println("TOKEN_FILE=" + file);
      }
      for (String token : tokens) {
        logging.redactor().add(token);
        sim.acceptToken(token);
      }
      if ((webhookUrl == null) != (webhookSecretFile == null)) {
        throw new IllegalArgumentException(
            "--webhook-url and --webhook-secret-file go together: webhooks are always signed");
      }
      if (webhookUrl != null) {
        Secret secret = Secret.fromFile(webhookSecretFile, "webhook secret file");
        logging.redactor().add(secret.reveal());
        sim.addWebhook(new SimWebhook(webhookUrl, secret.reveal()));
      }
      for (int i = 1; i <= jobs; i++) {
        sim.enqueueJob(new SimJob("job-" + i, jobLabels, duration));
      }
      out.flush();
      spec.commandLine()
          .getErr()
          .println(
              "sim: serving "
                  + sim.apiUrl()
                  + " with "
                  + jobs
                  + " queued job(s) for "
                  + String.join(", ", declared)
                  + "; state at "
                  + sim.apiUrl()
                  + "/_sim/state; stop with Ctrl-C or SIGTERM");
      spec.commandLine().getErr().flush();
      stop.await();
    }
    return ExitCodes.OK;
  }

  /**
   * Declares the repositories, organizations and enterprises given, or {@link #DEFAULT_REPOSITORY};
   * returns them as a person reads them. A name GitHub would not have is a usage error.
   */
  private List<String> declareScopes(GitHubSimulator sim) {
    List<String> declared = new ArrayList<>();
    if (repositories.isEmpty() && organizations.isEmpty() && enterprises.isEmpty()) {
      repositories.add(DEFAULT_REPOSITORY);
    }
    for (String repository : repositories) {
      declare(() -> sim.addRepository(repository), "--repo " + repository);
      declared.add("repository " + repository);
    }
    for (String organization : organizations) {
      declare(() -> sim.addOrganization(organization), "--org " + organization);
      declared.add("organization " + organization);
    }
    for (String enterprise : enterprises) {
      declare(() -> sim.addEnterprise(enterprise), "--enterprise " + enterprise);
      declared.add("enterprise " + enterprise);
    }
    return declared;
  }

  private static void declare(Runnable declaration, String option) {
    try {
      declaration.run();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
    }
  }

  static Duration durationOf(BigDecimal seconds, String option) {
    if (seconds.signum() < 0) {
      throw new IllegalArgumentException(option + " must not be negative, not " + seconds);
    }
    return Duration.ofMillis(seconds.movePointRight(3).longValue());
  }
}
