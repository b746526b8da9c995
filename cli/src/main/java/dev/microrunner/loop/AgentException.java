package dev.microrunner.loop;

/** The agent cannot set up or start the runner; the message names the file or setting. */
public class AgentException extends Exception {

  private static final long serialVersionUID = 1L;

  public AgentException(String message) {
    super(message);
  }

  public AgentException(String message, Throwable cause) {
    super(message, cause);
  }
}
