package dev.microrunner.github.internal;

import dev.microrunner.github.GitHubAuthenticationException;
import dev.microrunner.github.GitHubConflictException;
import dev.microrunner.github.GitHubException;
import dev.microrunner.github.GitHubNotFoundException;
import dev.microrunner.github.GitHubPermissionException;
import dev.microrunner.github.GitHubTarget;
import dev.microrunner.github.GitHubValidationException;
import dev.microrunner.github.RunnerScope;

/** Error messages that say what to do, per scope and kind of credential. */
public final class FailureMessages implements GitHubHttp.FailureExplainer {

  private static final int MAX_GITHUB_MESSAGE = 300;

  private final RunnerScope scope;
  private final GitHubTarget target;
  private final boolean app;

  public FailureMessages(RunnerScope scope, GitHubTarget target, boolean app) {
    this.scope = scope;
    this.target = target;
    this.app = app;
  }

  @Override
  public GitHubException explain(String method, String path, int status, String githubMessage) {
    String call = method + " " + path;
    String said = quoted(githubMessage);
    return switch (status) {
      case 401 ->
          new GitHubAuthenticationException(
              app
                  ? "GitHub rejected the GitHub App credentials for "
                      + call
                      + " (HTTP 401"
                      + said
                      + "): check the app id or client id, that the private key belongs to that app"
                      + " and is not revoked, and that this host's clock is correct"
                  : "GitHub rejected the token for "
                      + call
                      + " (HTTP 401"
                      + said
                      + "): it is wrong, expired or revoked; create a new one");
      case 403 ->
          new GitHubPermissionException(
              "the credentials may not manage the self-hosted runners of "
                  + describe()
                  + " ("
                  + call
                  + ", HTTP 403"
                  + said
                  + "): "
                  + requiredPermission());
      case 404 ->
          new GitHubNotFoundException(
              describe()
                  + " was not found on "
                  + target.apiBase().getHost()
                  + " ("
                  + call
                  + ", HTTP 404), or the "
                  + (app ? "GitHub App is not installed on it" : "token cannot see it")
                  + ": check the name and the scope ("
                  + scope.kind().optionValue()
                  + "), and "
                  + requiredPermission());
      case 409 ->
          new GitHubConflictException("GitHub refused " + call + " with HTTP 409 Conflict" + said);
      case 422 -> new GitHubValidationException("GitHub refused " + call + " with HTTP 422" + said);
      default ->
          new GitHubException(
              "GitHub answered HTTP " + status + " to " + call + said, status, false);
    };
  }

  /**
   * The explainer of the workflow run endpoints, which need another permission than the runner
   * endpoints: reading a repository's Actions.
   */
  public GitHubHttp.FailureExplainer actionsRead() {
    return (method, path, status, githubMessage) -> {
      String call = method + " " + path;
      String needed =
          "a fine-grained token or GitHub App needs the repository permission \"Actions: read\";"
              + " a classic token needs the 'repo' scope";
      return switch (status) {
        case 403 ->
            new GitHubPermissionException(
                "the credentials may not read the workflow runs of "
                    + describe()
                    + " ("
                    + call
                    + ", HTTP 403"
                    + quoted(githubMessage)
                    + "): "
                    + needed);
        case 404 ->
            new GitHubNotFoundException(
                describe()
                    + " or its workflow run was not found on "
                    + target.apiBase().getHost()
                    + " ("
                    + call
                    + ", HTTP 404), or the "
                    + (app ? "GitHub App is not installed on it" : "token cannot see it")
                    + ": "
                    + needed);
        default -> explain(method, path, status, githubMessage);
      };
    };
  }

  /** What the credentials need, by scope. */
  public String requiredPermission() {
    return switch (scope.kind()) {
      case REPO ->
          "a fine-grained token or GitHub App needs the repository permission"
              + " \"Administration: read and write\"; a classic token needs the 'repo' scope";
      case ORG ->
          "a fine-grained token or GitHub App needs the organization permission"
              + " \"Self-hosted runners: read and write\"; a classic token needs the 'admin:org'"
              + " scope";
      case ENTERPRISE ->
          "enterprise runners need a classic token with the"
              + " 'manage_runners:enterprise' scope (fine-grained tokens and GitHub Apps cannot"
              + " manage them)";
    };
  }

  private String describe() {
    return switch (scope.kind()) {
      case REPO -> "repository " + scope.principal();
      case ORG -> "organization " + scope.principal();
      case ENTERPRISE -> "enterprise " + scope.principal();
    };
  }

  private static String quoted(String githubMessage) {
    if (githubMessage == null || githubMessage.isBlank()) {
      return "";
    }
    String text = githubMessage.strip().replaceAll("\\p{Cntrl}", " ");
    if (text.length() > MAX_GITHUB_MESSAGE) {
      text = text.substring(0, MAX_GITHUB_MESSAGE) + "…";
    }
    return ": \"" + text + "\"";
  }
}
