package dev.microrunner.github;

/** GitHub refused the request (HTTP 422). */
public class GitHubValidationException extends GitHubException {
  public GitHubValidationException(String message) {
    super(message, 422, false);
  }
}
