package dev.microrunner.github;

/** GitHub answered 409 Conflict. */
public class GitHubConflictException extends GitHubException {
  public GitHubConflictException(String message) {
    super(message, 409, false);
  }
}
