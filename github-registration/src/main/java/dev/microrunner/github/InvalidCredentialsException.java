package dev.microrunner.github;

/** A credential could not be loaded (missing variable, unreadable or malformed file). */
public class InvalidCredentialsException extends GitHubException {
  public InvalidCredentialsException(String message) {
    super(message, 0, false);
  }

  public InvalidCredentialsException(String message, Throwable cause) {
    super(message, 0, false, cause);
  }

  /** No usable credentials on this host. */
  @Override
  public boolean isRefusal() {
    return true;
  }
}
