package dev.microrunner.github;

/** GitHub refused the request (HTTP 422). */
public class GitHubValidationException extends GitHubException {
  public GitHubValidationException(String message) {
    super(message, 422, false);
  }

  /** GitHub will not accept this request as it stands. */
  @Override
  public boolean isRefusal() {
    return true;
  }
}
