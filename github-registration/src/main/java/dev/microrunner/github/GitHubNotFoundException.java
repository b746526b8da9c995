package dev.microrunner.github;

/** GitHub answered 404 Not Found. */
public class GitHubNotFoundException extends GitHubException {
  public GitHubNotFoundException(String message) {
    super(message, 404, false);
  }
}
