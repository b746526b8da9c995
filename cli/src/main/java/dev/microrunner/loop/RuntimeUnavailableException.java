package dev.microrunner.loop;

/** The VM runtime asked for (or any, for {@code auto}) cannot run here; the message says why. */
public class RuntimeUnavailableException extends Exception {

  private static final long serialVersionUID = 1L;

  public RuntimeUnavailableException(String message) {
    super(message);
  }

  public RuntimeUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
