package dev.microrunner.github;

/** GitHub answered 404 Not Found. */
public class GitHubNotFoundException extends GitHubException {
  public GitHubNotFoundException(String message) {
    super(message, 404, false);
  }

  /** The scope, group or runner does not exist for these credentials. */
  @Override
  public boolean isRefusal() {
    return true;
  }
}
