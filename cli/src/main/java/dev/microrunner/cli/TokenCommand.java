package dev.microrunner.cli;

import dev.microrunner.github.GitHubRunnerClient;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.RunnerScope;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code microrunner token}: prints one registration token and nothing else. */
@Command(
    name = "token",
    sortOptions = false,
    mixinStandardHelpOptions = true,
    description = {
      "Prints a runner registration token on stdout, nothing else.",
      "Credentials: RUNNER_PAT, --token-file or a GitHub App.",
    })
public final class TokenCommand implements Callable<Integer> {

  @Option(
      names = {"-g", "--github"},
      paramLabel = "HOST",
      defaultValue = "${env:RUNNER_GITHUB:-github.com}",
      description = "GitHub host. RUNNER_GITHUB, now: ${DEFAULT-VALUE}.")
  String github;

  @Option(
      names = {"-p", "--principal"},
      required = true,
      defaultValue = "${env:RUNNER_PRINCIPAL}",
      description =
          "owner/repo, organisation or enterprise. RUNNER_PRINCIPAL, now: ${DEFAULT-VALUE}.")
  String principal;

  @Option(
      names = {"-s", "--scope"},
      defaultValue = "${env:RUNNER_SCOPE:-repo}",
      description = "repo, org or enterprise. RUNNER_SCOPE, now: ${DEFAULT-VALUE}.")
  String scope;

  @Mixin CredentialOptions credentials = new CredentialOptions();

  @Mixin LoggingOptions logging = new LoggingOptions();

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Map<String, String> environment = System.getenv();
    logging.apply("TOKEN", environment);
    try (GitHubRunnerClient client =
        GitHubRunnerClient.builder(
                GitHubTarget.of(github),
                RunnerScope.of(scope, principal),
                credentials.resolve(environment, logging.redactor()))
            .build()) {
      spec.commandLine().getOut().println(client.createRegistrationToken().token().reveal());
      spec.commandLine().getOut().flush();
    }
    return ExitCodes.OK;
  }
}
