package dev.microrunner.github;

/** GitHub answered 5xx or could not be reached, and the retries are exhausted. */
public class GitHubUnavailableException extends GitHubException {
  public GitHubUnavailableException(String message, int status, Throwable cause) {
    super(message, status, true, cause);
  }
}
