package dev.microrunner.vm;

/** A VM could not be started, listed, stopped or deleted. */
public class VmException extends Exception {
  private static final long serialVersionUID = 1L;

  public VmException(String message) {
    super(message);
  }

  public VmException(String message, Throwable cause) {
    super(message, cause);
  }
}
