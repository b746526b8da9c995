package dev.microrunner.handshake;

import java.io.IOException;

/** A protocol file could not be used; the message names the file. */
public class HandshakeException extends IOException {
  private static final long serialVersionUID = 1L;

  public HandshakeException(String message) {
    super(message);
  }

  public HandshakeException(String message, Throwable cause) {
    super(message, cause);
  }
}
