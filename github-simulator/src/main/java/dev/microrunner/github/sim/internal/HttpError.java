package dev.microrunner.github.sim.internal;

/** A request the simulator refuses: the status and the message of GitHub's error body. */
final class HttpError extends Exception {

  private final int status;

  HttpError(int status, String message) {
    super(message);
    this.status = status;
  }

  int status() {
    return status;
  }

  /** {@code {"message": ..., "documentation_url": ...}} with the status. */
  Reply reply() {
    return Reply.error(status, getMessage());
  }
}
