package dev.microrunner.github;

/**
 * A GitHub call failed. Messages say what to do and never contain a credential.
 *
 * <p>{@link #status()} is the HTTP status, or 0 when no response arrived (network error, bad local
 * configuration).
 */
public class GitHubException extends Exception {

  private final int status;
  private final boolean retryable;

  public GitHubException(String message, int status, boolean retryable, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.retryable = retryable;
  }

  public GitHubException(String message, int status, boolean retryable) {
    this(message, status, retryable, null);
  }

  public int status() {
    return status;
  }

  /** True when trying again later may succeed (outages, rate limits). */
  public boolean retryable() {
    return retryable;
  }

  /**
   * True when GitHub (or the local credential set-up) refused the request for good: credentials,
   * permissions, an unknown scope or group, a request it will never accept. Trying again with the
   * same settings cannot succeed, so a runner loop ends instead of backing off, and the command
   * line exits with its "GitHub refused" status.
   */
  public boolean isRefusal() {
    return false;
  }
}
