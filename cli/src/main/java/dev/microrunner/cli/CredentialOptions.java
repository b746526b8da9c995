package dev.microrunner.cli;

import dev.microrunner.github.Credentials;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.InvalidCredentialsException;
import dev.microrunner.github.PersonalAccessToken;
import dev.microrunner.github.Secret;
import dev.microrunner.loop.Redactor;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How the host authenticates at GitHub: a PAT from {@code RUNNER_PAT}, a file or (visible in the
 * process table) {@code -T}; or a GitHub App. Never shown in help.
 */
public final class CredentialOptions {

  @Option(
      names = {"-T", "--pat"},
      paramLabel = "TOKEN",
      description =
          "GitHub token used to register runners. Visible to every user in the process table:"
              + " prefer the RUNNER_PAT variable or --token-file.")
  String pat;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      defaultValue = "${env:RUNNER_TOKEN_FILE}",
      description =
          "Read the GitHub token from FILE (mode 0600; e.g. a systemd credential). Variable"
              + " RUNNER_TOKEN_FILE, now: ${env:RUNNER_TOKEN_FILE:-unset}.")
  Path tokenFile;

  @Option(
      names = "--app-id",
      paramLabel = "ID",
      defaultValue = "${env:RUNNER_APP_ID}",
      description =
          "Authenticate as this GitHub App (app id or client id) instead of a token. Variable"
              + " RUNNER_APP_ID, now: ${env:RUNNER_APP_ID:-unset}.")
  String appId;

  @Option(
      names = "--app-key-file",
      paramLabel = "PEM",
      defaultValue = "${env:RUNNER_APP_KEY_FILE}",
      description =
          "The GitHub App's private key (PEM). Variable RUNNER_APP_KEY_FILE, now:"
              + " ${env:RUNNER_APP_KEY_FILE:-unset}.")
  Path appKeyFile;

  /**
   * The credentials, in order: -T, --token-file, RUNNER_PAT, the GitHub App. A token goes into
   * {@code redactor} at once.
   */
  public Credentials resolve(Map<String, String> environment, Redactor redactor)
      throws GitHubException {
    if (pat != null && !pat.isBlank()) {
      redactor.add(pat.strip());
      return Credentials.pat(Secret.of(pat.strip()));
    }
    if (tokenFile != null) {
      return masked(Credentials.patFromFile(tokenFile), redactor);
    }
    String fromEnvironment = environment.get("RUNNER_PAT");
    if (fromEnvironment != null && !fromEnvironment.isBlank()) {
      return masked(Credentials.patFromEnv("RUNNER_PAT", environment), redactor);
    }
    if (appId != null) {
      if (appKeyFile == null) {
        throw new InvalidCredentialsException(
            "--app-id needs --app-key-file (RUNNER_APP_KEY_FILE), the App's private key");
      }
      return Credentials.app(appId, appKeyFile);
    }
    throw new InvalidCredentialsException(
        "no GitHub credentials: set RUNNER_PAT, or give --token-file FILE, or --app-id with"
            + " --app-key-file");
  }

  private static Credentials masked(Credentials credentials, Redactor redactor) {
    if (credentials instanceof PersonalAccessToken token) {
      redactor.add(token.token().reveal());
    }
    return credentials;
  }
}
