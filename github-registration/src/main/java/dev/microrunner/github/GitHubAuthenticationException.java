package dev.microrunner.github;

/** GitHub rejected the credentials (HTTP 401). */
public class GitHubAuthenticationException extends GitHubException {
  public GitHubAuthenticationException(String message) {
    super(message, 401, false);
  }

  /** Bad credentials. */
  @Override
  public boolean isRefusal() {
    return true;
  }
}
