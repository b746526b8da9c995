package dev.microrunner.github;

/** The credentials lack a permission (HTTP 403). */
public class GitHubPermissionException extends GitHubException {
  public GitHubPermissionException(String message) {
    super(message, 403, false);
  }

  /** The credentials lack the permission. */
  @Override
  public boolean isRefusal() {
    return true;
  }
}
